import Foundation
import Testing

/// A running `sandbox serve` on a free port of 127.0.0.1, stopped (SIGTERM) at the end.
final class ServeProcess: @unchecked Sendable {
    let process = Process()
    let output: URL
    private(set) var base = ""
    private(set) var token = ""
    private(set) var link = ""

    init(_ checkout: DemoCheckout, arguments: [String] = [], environment: [String: String] = [:]) throws {
        output = checkout.root.appendingPathComponent("serve-\(UUID().uuidString.prefix(6)).log")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: Binary.path)
        process.arguments = ["serve", "--listen", "127.0.0.1:0"] + arguments
        process.currentDirectoryURL = checkout.root
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let handle = try FileHandle(forWritingTo: output)
        defer { try? handle.close() }
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, process.isRunning {
            if let line = log.split(separator: "\n").first(where: { $0.hasPrefix("open http") }) {
                link = String(line.dropFirst("open ".count))
                base = String(link[..<link.range(of: "/?token=")!.lowerBound])
                token = String(link[link.range(of: "?token=")!.upperBound...])
                return
            }
            usleep(20_000)
        }
        Issue.record("sandbox serve did not print its link within 30 s: \(log)")
    }

    var log: String { (try? String(contentsOf: output, encoding: .utf8)) ?? "" }

    /// Stops it the way Ctrl-C or a service manager does, and waits for it to exit.
    @discardableResult
    func stop(signal: Int32 = SIGTERM, within seconds: TimeInterval = 120) -> Int32? {
        guard process.isRunning else { return process.terminationStatus }
        kill(process.processIdentifier, signal)
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit(); return nil }
        return process.terminationStatus
    }

    deinit { stop() }

    struct Reply {
        var status: Int
        var headers: [String: String]
        var body: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]) ?? [:] }
    }

    /// One request with curl; `auth` false sends no token.
    func request(_ method: String, _ path: String, auth: Bool = true, headers: [String: String] = [:], body: String? = nil,
                 timeout: Int = 60) throws -> Reply {
        var args = ["-s", "-S", "-i", "-X", method, "--max-time", String(timeout)]
        if auth { args += ["-H", "Authorization: Bearer \(token)"] }
        for (k, v) in headers { args += ["-H", "\(k): \(v)"] }
        if let body { args += ["-H", "Content-Type: application/json", "--data-binary", body] }
        let r = try runProgram("curl", args + [base + path], timeout: TimeInterval(timeout + 10))
        return Self.parse(r.stdout)
    }

    static func parse(_ raw: String) -> Reply {
        let parts = raw.components(separatedBy: "\r\n\r\n")
        let head = parts.first ?? "", body = parts.dropFirst().joined(separator: "\r\n\r\n")
        let lines = head.components(separatedBy: "\r\n")
        let status = Int(lines.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased(), value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            headers[name] = headers[name].map { "\($0)\n\(value)" } ?? value
        }
        return Reply(status: status, headers: headers, body: body)
    }

    /// Waits for an operation to finish and returns it.
    func finished(_ id: String, within seconds: TimeInterval = 600) throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let op = try request("GET", "/api/v1/operations/\(id)").json
            if let state = op["state"] as? String, ["succeeded", "failed", "cancelled"].contains(state) { return op }
            usleep(100_000)
        }
        Issue.record("operation \(id) did not finish within \(seconds) s")
        return [:]
    }

    /// Runs an operation through the API and waits for it.
    func operate(_ path: String, method: String = "POST", body: String? = nil) throws -> [String: Any] {
        let accepted = try request(method, path, body: body)
        #expect(accepted.status == 202, "\(path): \(accepted.status) \(accepted.body)")
        return try finished(try #require(accepted.json["id"] as? String))
    }
}

/// Watches a process's descendants from /proc, every few milliseconds, and keeps the command lines of those that run
/// the `sandbox` binary itself: a `sandbox … --json` child lives 0.1–0.3 s, so a poll this often cannot miss one.
final class ChildWatcher: @unchecked Sendable {
    private let lock = NSLock()
    private var seen: [Int32: String] = [:]
    private var running = true
    private let finished = DispatchSemaphore(value: 0)

    init(parent: Int32, executable: String = Binary.path) {
        let binary = URL(fileURLWithPath: executable).resolvingSymlinksInPath().path
        // A child forked to run docker, git or cp carries the server's own command line until it execs: that is not
        // a `sandbox` command, so a line equal to the server's is not one.
        let own = String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(parent)/cmdline"))) ?? Data(), as: UTF8.self)
            .replacingOccurrences(of: "\0", with: " ")
        Thread.detachNewThread { [self] in
            while isRunning {
                for (pid, line) in Self.descendants(of: parent, running: binary) where line != own { record(pid, line) }
                usleep(3_000)
            }
            finished.signal()
        }
    }

    private var isRunning: Bool { lock.lock(); defer { lock.unlock() }; return running }
    private func record(_ pid: Int32, _ line: String) { lock.lock(); seen[pid] = line; lock.unlock() }

    /// Stops watching and returns the command lines seen.
    func stop() -> [String] {
        lock.lock(); running = false; lock.unlock()
        finished.wait()
        lock.lock(); defer { lock.unlock() }
        return seen.values.sorted()
    }

    static func descendants(of root: Int32, running binary: String) -> [(Int32, String)] {
        var parents: [Int32: Int32] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(name), let stat = try? String(contentsOfFile: "/proc/\(name)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, let ppid = Int32(fields[1]) { parents[pid] = ppid }
        }
        func descends(_ pid: Int32) -> Bool {
            var current = pid, hops = 0
            while let up = parents[current], hops < 64 { if up == root { return true }; current = up; hops += 1 }
            return false
        }
        return parents.keys.filter(descends).compactMap { pid in
            guard let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe"), exe == binary else { return nil }
            let raw = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline"))) ?? Data()
            return (pid, String(decoding: raw, as: UTF8.self).replacingOccurrences(of: "\0", with: " "))
        }
    }
}
