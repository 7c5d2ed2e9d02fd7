import Foundation

/// Fills in recipe templates for one instance: sandbox references (`{db.port}`, `{instance}`, `{env.X}`)
/// and image references (`{user}`, `{password}`, `{port}`, `{data}`).
public struct Rendering: Sendable {
    public var sandbox: ResolvedSandbox
    public var instance: String
    /// Host ports by service.
    public var ports: [String: Int]
    /// Data stamps by service (credentials live there).
    public var stamps: [String: DataStamp]
    public var environment: [String: String]

    public init(sandbox: ResolvedSandbox, instance: String, ports: [String: Int], stamps: [String: DataStamp],
                environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.sandbox = sandbox
        self.instance = instance
        self.ports = ports
        self.stamps = stamps
        self.environment = environment
    }

    /// Sandbox-recipe references.
    public func sandboxValue(_ name: String) -> String? {
        if name == "instance" { return instance }
        if name == "sandbox" { return sandbox.name }
        let parts = name.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return nil }
        if parts[0] == "env" { return environment[parts[1]] }
        guard let service = sandbox.service(parts[0]) else { return nil }
        switch parts[1] {
        case "host": return Self.host(service.publish)
        case "port": return ports[service.name].map(String.init)
        case "user": return stamps[service.name]?.user ?? service.spec.user
        case "password": return stamps[service.name]?.password
        case "url": return url(service)
        default: return nil
        }
    }

    /// The address a client on this host connects to.
    static func host(_ publish: String) -> String { publish == "0.0.0.0" ? "127.0.0.1" : publish }

    public func url(_ service: ResolvedService) -> String? {
        guard let template = service.spec.url, let port = ports[service.name] else { return nil }
        let stamp = stamps[service.name]
        return try? template.render { name in
            switch name {
            case "host": return Self.host(service.publish)
            case "port": return String(port)
            case "user": return stamp?.user ?? service.spec.user
            case "password": return stamp?.password
            default: return nil
            }
        }
    }

    /// Image-recipe references inside the container, shell-quoted; `{x|ident}` and `{x|literal}` quoted
    /// for the service's SQL dialect first, so a value is safe for both the shell and SQL.
    public static func command(_ template: Template, spec: ServiceSpec, stamp: DataStamp?, params: [String: String] = [:]) throws(SandboxError) -> String {
        do {
            return try template.render(quote: true, dialect: spec.dialect) { name in
                switch name {
                case "user": return stamp?.user ?? spec.user
                case "password": return stamp?.password
                case "port": return String(spec.port)
                case "data": return spec.data
                case "run-as": return spec.runAs
                default: return params[name]
                }
            }
        } catch {
            switch error.reason {
            case .noValue:
                throw SandboxError(.stepFailed, "'{\(error.name)}' has no value in: \(error.template)",
                                   fix: "give it a value (for {env.X}: export X, or write {env.X:-default})")
            case .noDialect:
                throw SandboxError(.stepFailed, "'\(error.reference.text)' quotes for SQL, but engine '\(spec.engine)' has no SQL dialect, in: \(error.template)",
                                   fix: "run `sandbox check`: it reports where, and which engines have one")
            case .nul:
                throw SandboxError(.stepFailed, "the value of '{\(error.name)}' holds a NUL character, which no shell command can carry, in: \(error.template)",
                                   fix: "remove the NUL character from the value")
            }
        }
    }

    /// The service's start command; `exec` makes the service PID 1, so it receives the container's stop signal
    /// and shuts down cleanly instead of being killed after the timeout.
    public static func start(_ spec: ServiceSpec, stamp: DataStamp?) throws(SandboxError) -> String {
        "exec " + (try command(spec.start, spec: spec, stamp: stamp))
    }

    /// A step's full command: its parameters rendered first, then substituted (quoted) into the action.
    public func step(_ step: ResolvedStep, service: ResolvedService) throws(SandboxError) -> String {
        var values: [String: String] = [:]
        for (name, template) in step.params {
            do { values[name] = try template.render { sandboxValue($0) } } catch {
                throw SandboxError(.stepFailed, "step '\(step.title)' of \(service.name): '{\(error.name)}' has no value",
                                   fix: "export it, or give a default: {\(error.name):-value}")
            }
        }
        if step.action == "run" {
            do { return try step.command.render { sandboxValue($0) } } catch {
                throw SandboxError(.stepFailed, "step '\(step.title)' of \(service.name): '{\(error.name)}' has no value",
                                   fix: "export it, or give a default: {\(error.name):-value}")
            }
        }
        return try Self.command(step.command, spec: service.spec, stamp: stamps[service.name], params: values)
    }

    /// The exported variables, in recipe order.
    public func env() throws(SandboxError) -> [(String, String)] {
        var out: [(String, String)] = []
        for entry in sandbox.env {
            do { out.append((entry.name, try entry.value.render { sandboxValue($0) })) } catch {
                throw SandboxError(.invalidRecipes, "\(sandbox.recipePath): env \(entry.name): '{\(error.name)}' has no value",
                                   fix: "export it before `sandbox up`, or give a default: {\(error.name):-value}")
            }
        }
        return out
    }

    /// `KEY=value` lines, values single-quoted when needed so the file can be sourced.
    public static func envFile(_ pairs: [(String, String)]) -> String {
        pairs.map { "\($0.0)=\(shellQuote($0.1))" }.joined(separator: "\n") + (pairs.isEmpty ? "" : "\n")
    }
}
