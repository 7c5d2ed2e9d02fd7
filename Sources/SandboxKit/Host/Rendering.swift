import Foundation
import SandboxBase
import SandboxRecipes

/// Fills in recipe templates for one instance: sandbox references (`{db.port}`, `{instance}`, `{env.X}`)
/// and image references (`{user}`, `{password}`, `{port}`, `{data}`).
package struct Rendering: Sendable {
    package var sandbox: ResolvedSandbox
    package var instance: String
    /// Host ports by service.
    package var ports: [String: Int]
    /// Data stamps by service (credentials live there).
    package var stamps: [String: DataStamp]
    package var environment: [String: String]
    /// How `{SERVICE.host}`, `{SERVICE.port}` and `{SERVICE.url}` read: as this host reaches the services (127.0.0.1 and
    /// the published port: `sandbox env`), or as the instance's network does (the service's name and its container
    /// port: a service's own `env`).
    package var view: View = .host

    package enum View: Sendable { case host, network }

    package init(sandbox: ResolvedSandbox, instance: String, ports: [String: Int], stamps: [String: DataStamp],
                environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.sandbox = sandbox
        self.instance = instance
        self.ports = ports
        self.stamps = stamps
        self.environment = environment
    }

    /// Sandbox-recipe references.
    package func sandboxValue(_ name: String) -> String? {
        if name == "instance" { return instance }
        if name == "sandbox" { return sandbox.name }
        let parts = name.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return nil }
        if parts[0] == "env" { return environment[parts[1]] }
        guard let service = sandbox.service(parts[0]) else { return nil }
        switch (parts[1], view) {
        case ("host", .network): return service.name
        case ("port", .network): return String(service.spec.port)
        case ("url", .network): return service.spec.url.flatMap { networkView($0, service) }
        default: break
        }
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
    package static func host(_ publish: String) -> String { publish == "0.0.0.0" ? "127.0.0.1" : publish }

    /// An image recipe's URL as the instance's network reaches the service: its name and container port.
    private func networkView(_ template: Template, _ service: ResolvedService) -> String? {
        let stamp = stamps[service.name]
        return try? template.render { name in
            switch name {
            case "host": return service.name
            case "port": return String(service.spec.port)
            case "user": return stamp?.user ?? service.spec.user
            case "password": return stamp?.password
            default: return nil
            }
        }
    }

    /// A service's own environment, in recipe order: its `env` rendered as the instance's network sees the others.
    package func serviceEnv(_ service: ResolvedService) throws(SandboxError) -> [(String, String)] {
        var network = self
        network.view = .network
        var out: [(String, String)] = []
        for entry in service.env {
            do { out.append((entry.name, try entry.value.render { network.sandboxValue($0) })) } catch {
                throw SandboxError(.invalidRecipes, "\(sandbox.recipePath): env \(entry.name) of service \(service.name): '{\(error.name)}' has no value",
                                   fix: "export it before `sandbox up`, or give a default: {\(error.name):-value}")
            }
        }
        return out
    }

    package func url(_ service: ResolvedService, masked: Bool = false) -> String? {
        service.spec.url.flatMap { hostView($0, service, masked: masked) }
    }

    /// The image recipe's `connect` forms, as seen from the host; the password as `***` when `masked`.
    package func connections(_ service: ResolvedService, masked: Bool) -> [ConnectionForm] {
        service.spec.connect.compactMap { form in hostView(form.value, service, masked: masked).map { ConnectionForm(name: form.name, value: $0) } }
    }

    private func hostView(_ template: Template, _ service: ResolvedService, masked: Bool) -> String? {
        guard let port = ports[service.name] else { return nil }
        let stamp = stamps[service.name]
        return try? template.render { name in
            switch name {
            case "host": return Self.host(service.publish)
            case "port": return String(port)
            case "user": return stamp?.user ?? service.spec.user
            case "password": return stamp?.password.map { masked && !$0.isEmpty ? "***" : $0 }
            default: return nil
            }
        }
    }

    /// Image-recipe references inside the container, shell-quoted; `{x|ident}` and `{x|literal}` quoted
    /// for SQL by the service's declared quoting first, so a value is safe for both the shell and SQL.
    package static func command(_ template: Template, spec: ServiceSpec, stamp: DataStamp?, params: [String: String] = [:]) throws(SandboxError) -> String {
        do {
            return try template.render(quote: true, sql: spec.sql) { name in
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
            case .noQuoting:
                throw SandboxError(.stepFailed,
                                   "'\(error.text)' quotes for SQL, but the service (engine '\(spec.engine)') declares no SQL quoting, in: \(error.template)",
                                   fix: "run `sandbox check`: it reports where; say how under 'service.sql' (docs/recipes.md)")
            case .nul:
                throw SandboxError(.stepFailed, "the value of '{\(error.name)}' holds a NUL character, which no shell command can carry, in: \(error.template)",
                                   fix: "remove the NUL character from the value")
            }
        }
    }

    /// The service's start command; `exec` makes the service PID 1, so it receives the container's stop signal
    /// and shuts down cleanly instead of being killed after the timeout.
    package static func start(_ spec: ServiceSpec, stamp: DataStamp?) throws(SandboxError) -> String {
        "exec " + (try command(spec.start, spec: spec, stamp: stamp))
    }

    /// A step's full command: its parameters rendered first, checked against their types, then substituted
    /// (quoted) into the action.
    package func step(_ step: ResolvedStep, service: ResolvedService) throws(SandboxError) -> String {
        var values: [String: String] = [:]
        for (name, template) in step.params {
            do { values[name] = try template.render { sandboxValue($0) } } catch {
                throw SandboxError(.stepFailed, "step '\(step.title)' of \(service.name): '{\(error.name)}' has no value",
                                   fix: "export it, or give a default: {\(error.name):-value}")
            }
        }
        if step.action == "run" {
            // Every substituted value is one shell word, whatever it holds: `{env.BRANCH}` set to `x; rm -rf /` is text.
            do { return try step.command.render(quote: true) { sandboxValue($0) } } catch {
                if error.reason == .nul {
                    throw SandboxError(.stepFailed, "step '\(step.title)' of \(service.name): the value of '{\(error.name)}' holds a NUL character, "
                                           + "which no shell command can carry", fix: "remove the NUL character from the value")
                }
                throw SandboxError(.stepFailed, "step '\(step.title)' of \(service.name): '{\(error.name)}' has no value",
                                   fix: "export it, or give a default: {\(error.name):-value}")
            }
        }
        if let action = service.actions[step.action] {
            try Self.check(values, of: action, templates: step.params, what: "step '\(step.title)' of \(service.name)")
        }
        return try Self.command(step.command, spec: service.spec, stamp: stamps[service.name], params: values)
    }

    /// An action of the service's image run with the given values rather than from a recipe step — e.g.
    /// `set-password` with `secret` after a data dir is copied. Values are checked against their types;
    /// defaults without references fill in the rest.
    package static func action(_ name: String, of service: ResolvedService, stamp: DataStamp?, params: [String: String]) throws(SandboxError) -> String {
        guard let action = service.actions[name] else {
            throw SandboxError(.stepFailed, "image \(service.imageTag) of \(service.name) has no action '\(name)'",
                               fix: "add '\(name)' to its image recipe's actions (see docs/recipes.md)")
        }
        var values = params
        for param in action.params where values[param.name] == nil {
            guard let value = param.defaultValue, case let .success(t) = Template.parse(value), let text = try? t.render({ _ in nil }) else {
                throw SandboxError(.stepFailed, "action '\(name)' of \(service.name) needs parameter '\(param.name)'",
                                   fix: "pass a value for '\(param.name)'")
            }
            values[param.name] = text
        }
        try check(values, of: action, templates: [:], what: "action '\(name)' of \(service.name)")
        return try command(action.run, spec: service.spec, stamp: stamp, params: values)
    }

    /// Each value against its parameter's type (an identifier from `{env.X}` is known only now).
    static func check(_ values: [String: String], of action: ImageRecipe.Action, templates: [String: Template], what: String) throws(SandboxError) {
        for param in action.params.sorted(by: { $0.name < $1.name }) {
            guard let value = values[param.name], let problem = param.problem(with: value, action: action.name) else { continue }
            let source = templates[param.name].map { " (it comes from \($0.raw))" } ?? ""
            throw SandboxError(.stepFailed, "\(what): \(problem.message)\(source)", fix: problem.rule)
        }
    }

    /// The exported variables, in recipe order.
    package func env() throws(SandboxError) -> [(String, String)] {
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
    package static func envFile(_ pairs: [(String, String)]) -> String {
        pairs.map { "\($0.0)=\(shellQuote($0.1))" }.joined(separator: "\n") + (pairs.isEmpty ? "" : "\n")
    }
}

/// One form of connecting to a service, as the page shows it: its name and the text to paste.
package struct ConnectionForm: Sendable, Equatable, Codable {
    package var name: String
    package var value: String
}
