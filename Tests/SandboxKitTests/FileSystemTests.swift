import Foundation
import Testing
@testable import SandboxHost

@Suite struct FileSystemTests {
    /// Services converge side by side and each records its port in instance.json: concurrent atomic writes of
    /// one file must all succeed, and the file must always hold one whole write.
    @Test func concurrentAtomicWritesOfOneFileAllSucceed() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fs-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("instance.json")
        let failures = try await withThrowingTaskGroup(of: Int.self) { group in
            for writer in 0..<8 {
                group.addTask {
                    var failed = 0
                    for round in 0..<50 {
                        do { try FileSystem.writeAtomically(Data("writer \(writer) round \(round)".utf8), to: file, mode: 0o600) } catch { failed += 1 }
                    }
                    return failed
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(failures == 0)
        let text = try String(contentsOf: file, encoding: .utf8)
        #expect(text.hasPrefix("writer ") && text.contains(" round "))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["instance.json"], "no temporary files left")
    }
}
