import Foundation
import Subprocess
import SandboxBase

/// A program on the host (cp, debootstrap, tar), run in the guarded process group so it never outlives `sandbox`.
package enum HostCommand {
    package struct Result: Sendable {
        package var status: Int32
        /// The last lines of its combined output.
        package var tail: String
    }

    /// Runs `path` with `arguments`, handing each output line to `line`; never throws for a non-zero exit.
    package static func run(_ path: String, _ arguments: [String], line: @escaping @Sendable (String) -> Void = { _ in })
        async throws(SandboxError) -> Result {
        do {
            let result = try await Subprocess.run(.path(.init(path)), arguments: Arguments(arguments),
                                                  platformOptions: ChildGuard.shared.options(), input: .none,
                                                  output: .sequence, error: .combinedWithOutput) { execution in
                var last: [String] = []
                for try await text in execution.standardOutput.strings(bufferingPolicy: .maxLineLength(64 << 10)) {
                    let l = text.hasSuffix("\n") ? String(text.dropLast()) : text
                    line(l)
                    last.append(l)
                    if last.count > 20 { last.removeFirst() }
                }
                return last.joined(separator: "\n")
            }
            return Result(status: result.terminationStatus.code, tail: result.closureResult)
        } catch {
            throw SandboxError(.io, "cannot run \(path): \(error)", fix: "check that \(path) is installed (Scripts/engine-up installs what sandbox needs)")
        }
    }
}
