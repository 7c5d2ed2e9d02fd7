import Foundation
import SandboxKit
import Subprocess

/// Runs the `sandbox` command itself, with `--json`, for every API call.
///
/// The API is the command line over HTTP: each call runs exactly what a person would type, so its objects are
/// the `--json` objects (docs/json.md) by construction, it takes the instance lock the same way (a CLI `up` and
/// a page's reset never interleave), and a crash or a cancel in one operation never touches the server.
/// Children run in the guarded process group: they never outlive the server, and a Ctrl-C in the server's
/// terminal reaches the server alone, which then lets them finish.
public struct CommandRunner: Sendable {
    public var executable: String

    public init(executable: String) { self.executable = executable }

    /// What a finished command printed: its JSON lines, its other lines (human messages), its exit status.
    public struct Outcome: Sendable {
        public var status: Int32
        public var objects: [JSONObject]
        public var messages: [String]

        /// The `error` event of a failed command, or one made from its messages.
        public var error: JSONObject? {
            guard status != 0 else { return nil }
            if let e = objects.last(where: { $0.event == "error" }) { return e }
            let said = messages.suffix(5).joined(separator: "\n")
            let message = status > 128 ? "sandbox was stopped by signal \(status - 128) before it finished\(said.isEmpty ? "" : ": \(said)")"
                : said.isEmpty ? "sandbox exited with status \(status) and said nothing" : said
            return JSONObject(["event": "error", "code": status == 64 ? SandboxError.Code.badRequest.rawValue : SandboxError.Code.io.rawValue,
                               "message": message, "fix": "run `sandbox up` again: it finishes or undoes what an interrupted command began"])
        }

        /// The command's final object (`result`, `status`, `list`, `plan`, `snapshots` …).
        public var final: JSONObject? { status == 0 ? objects.last : nil }
    }

    /// Runs to completion.
    public func run(_ arguments: [String]) async throws -> Outcome {
        try await stream(arguments) { _ in }
    }

    /// Runs, handing each JSON object to `event` as it comes.
    public func stream(_ arguments: [String], event: @escaping @Sendable (JSONObject) async -> Void) async throws -> Outcome {
        let result = try await Subprocess.run(.path(.init(executable)), arguments: Arguments(arguments),
                                              environment: .inherit.updating(["NO_COLOR": "1", "TERM": "dumb"]),
                                              platformOptions: ChildGuard.shared.options(), input: .none,
                                              output: .sequence, error: .combinedWithOutput) { execution in
            var objects: [JSONObject] = [], messages: [String] = []
            for try await text in execution.standardOutput.strings(bufferingPolicy: .maxLineLength(1 << 20)) {
                let line = text.hasSuffix("\n") ? String(text.dropLast()) : text
                if line.hasPrefix("{"), let object = JSONObject(parsing: line) {
                    objects.append(object)
                    await event(object)
                } else if !line.isEmpty {
                    messages.append(line)
                    if messages.count > 200 { messages.removeFirst() }
                }
            }
            return (objects, messages)
        }
        return Outcome(status: result.terminationStatus.code, objects: result.closureResult.0, messages: result.closureResult.1)
    }
}

/// One JSON object as the command printed it, kept as its exact bytes so the API hands on what `--json` says.
public struct JSONObject: Sendable, Equatable {
    public let text: String
    public let event: String?
    public let code: String?

    public init?(parsing line: String) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
        text = line
        event = object["event"] as? String
        code = object["code"] as? String
    }

    public init(_ dictionary: [String: Any]) {
        let data = (try? JSONSerialization.data(withJSONObject: dictionary, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        text = String(decoding: data, as: UTF8.self)
        event = dictionary["event"] as? String
        code = dictionary["code"] as? String
    }

    public var dictionary: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]) ?? [:]
    }
}

extension CommandRunner {
    /// Runs a command whose output is text, not JSON (`logs`): every line, as printed.
    public func raw(_ arguments: [String]) async throws -> (status: Int32, lines: [String]) {
        let result = try await Subprocess.run(.path(.init(executable)), arguments: Arguments(arguments),
                                              platformOptions: ChildGuard.shared.options(), input: .none,
                                              output: .string(limit: 64 << 20), error: .combinedWithOutput)
        let text = result.standardOutput
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        return (result.terminationStatus.code, lines)
    }

    /// Runs a command that prints text until stopped (`logs --follow`), handing on each line.
    public func follow(_ arguments: [String], line: @escaping @Sendable (String) async -> Void) async throws {
        _ = try await Subprocess.run(.path(.init(executable)), arguments: Arguments(arguments),
                                     platformOptions: ChildGuard.shared.options(), input: .none,
                                     output: .sequence, error: .combinedWithOutput) { execution in
            for try await text in execution.standardOutput.strings(bufferingPolicy: .maxLineLength(1 << 20)) {
                await line(text.hasSuffix("\n") ? String(text.dropLast()) : text)
            }
        }
    }
}
