import Foundation

/// What `up` will do, in order, each step with the reason for it.
public struct Plan: Sendable, Equatable, CustomStringConvertible {
    public var actions: [Action]
    /// Reasons `up` must not proceed at all; each names the fix.
    public var problems: [Problem]

    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        public var code: SandboxError.Code
        public var message: String
        public var fix: String
        public var description: String { "\(message); \(fix)" }

        public init(_ code: SandboxError.Code, _ message: String, fix: String) {
            self.code = code
            self.message = message
            self.fix = fix
        }
    }

    public struct Action: Sendable, Equatable, CustomStringConvertible {
        public enum Target: Sendable, Equatable {
            case image(String)
            case service(String)
        }

        public enum Kind: Sendable, Equatable {
            /// Make an external base image present: local, pulled, or bootstrapped.
            case ensureBase
            case build
            case removeContainer(id: String)
            /// Give the service a data dir: copied from the golden one, or made by init and setup first.
            case prepareData(golden: Bool)
            case startContainer(id: String)
            case createContainer(port: Int)
            case waitReady
            case runUpdate(ResolvedStep)
            case notice(String)
            case nothing
        }

        public var target: Target
        public var kind: Kind
        public var cause: String

        public var name: String {
            switch kind {
            case .ensureBase: return "EnsureBaseImage"
            case .build: return "Build"
            case .removeContainer: return "RemoveContainer"
            case let .prepareData(golden): return golden ? "CopyGoldenData" : "InitData"
            case .startContainer: return "StartContainer"
            case let .createContainer(port): return "CreateContainer port=\(port)"
            case .waitReady: return "WaitReady"
            case let .runUpdate(step): return "RunUpdate \(step.title)"
            case .notice: return "Notice"
            case .nothing: return "Nothing"
            }
        }

        public var targetText: String {
            switch target {
            case let .image(tag): return "image:\(tag)"
            case let .service(name): return "service:\(name)"
            }
        }

        public var description: String { "\(targetText), \(name), \(cause)" }

        /// True for the steps that change something.
        public var changes: Bool {
            switch kind {
            case .nothing, .notice: return false
            default: return true
            }
        }
    }

    public var isNoOp: Bool { problems.isEmpty && !actions.contains { $0.changes } }

    /// One numbered line per action, like compose's plan: `#1 service:db, CreateContainer port=20001, container missing`.
    public var description: String {
        var lines = problems.map { "problem: \($0)" }
        lines += actions.enumerated().map { "#\($0.offset + 1) \($0.element)" }
        return lines.joined(separator: "\n")
    }
}
