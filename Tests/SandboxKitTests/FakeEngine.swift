import Foundation
import SandboxBase
import Synchronization
@testable import SandboxBase
@testable import SandboxEngine
@testable import SandboxOutput
@testable import SandboxApply

/// An engine in memory behind SandboxKit's `EngineTransport`: containers and images as the docker CLI reports them,
/// answering in microseconds, so the executor, the golden copies, the upgrader and the observer run in unit tests.
///
/// A detached container "starts" by writing the readiness marker into every folder mounted into it (as the entry
/// script does once its check passes); a foreground one (init) writes `initialised` into its mounts. Every script
/// a command carries is decoded and kept, so a test reads the exact SQL steps that ran. `fail` makes the next
/// commands of a verb answer as a failing engine does, in the engine's own words.
final class FakeEngine: EngineTransport {
    struct Container: Equatable {
        var id: String
        var name: String
        var image: String
        var labels: [String: String]
        var state: String
        var ports: String
        var mounts: [String]
        var network: String? = nil
    }

    struct Failure {
        var verb: String
        var status: Int32
        var stderr: String
        var times: Int
    }

    private struct World {
        var containers: [String: Container] = [:]
        var images: [String: [String: String]] = [:]
        var commands: [[String]] = []
        var scripts: [String] = []
        var failures: [Failure] = []
        var networks: Set<String> = []
        var networkLabels: [String: [String: String]] = [:]
        var nextID = 1
        /// What sessions were sent (SQL, without the marker), in order.
        var sent: [String] = []
        /// Sessions end (as a client does at an error, or a server that restarted) after this many requests each.
        var sessionLife: Int?
        var sessionsStarted = 0
        var leaseNames: Set<String> = []
        /// The entry script's run of the run folder's `once` script fails (no mark left; the host must exec it).
        var onceFails = false
    }

    private let world = Mutex(World())

    init(images: [String] = []) {
        world.withLock { w in for tag in images { w.images[tag] = [:] } }
    }

    // MARK: what tests set and read

    /// The next `times` commands whose first word is `verb` fail with `stderr`.
    func fail(_ verb: String, times: Int = 1, status: Int32 = 1, stderr: String) {
        world.withLock { $0.failures.append(Failure(verb: verb, status: status, stderr: stderr, times: times)) }
    }

    /// From now on the entry script's `once` script fails, as in an image made before it could run one.
    func failOnceScripts() { world.withLock { $0.onceFails = true } }

    /// Each session ends after `requests` requests: the next one finds it ended, as undelivered.
    func endSessions(after requests: Int) { world.withLock { $0.sessionLife = requests } }
    var sessionsStarted: Int { world.withLock { $0.sessionsStarted } }
    fileprivate var sessionLife: Int? { world.withLock { $0.sessionLife } }

    /// Every argv run, in order.
    var commands: [[String]] { world.withLock { $0.commands } }
    /// Every script sent on standard input (decoded), in order.
    var scripts: [String] { world.withLock { $0.scripts } }
    var containers: [Container] { world.withLock { Array($0.containers.values).sorted { $0.name < $1.name } } }
    var imageTags: [String] { world.withLock { $0.images.keys.sorted() } }
    var networks: [String] { world.withLock { $0.networks.sorted() } }

    func verbs() -> [String] { commands.map { $0.first == "image" ? "image " + $0[1] : $0[0] } }

    /// A container made outside the core (by hand, or left by a killed command).
    func add(_ container: Container) { world.withLock { $0.containers[container.name] = container } }

    func setState(_ name: String, _ state: String) { world.withLock { $0.containers[name]?.state = state } }

    // MARK: EngineTransport

    func run(_ command: DockerCommand) async throws(SandboxError) -> Docker.Output {
        answer(command)
    }

    func stream(_ command: DockerCommand, line: @escaping @Sendable (String) -> Void) async throws(SandboxError) -> Docker.Output {
        let out = answer(command)
        for text in (out.stdout + out.stderr).split(separator: "\n") { line(String(text)) }
        return out
    }

    func attached(_ command: DockerCommand) async throws(SandboxError) -> Int32 { answer(command).status }

    /// A session answers every request with no lines, as a server does that prints nothing; it records what it was sent.
    func session(_ command: DockerCommand) -> any EngineSession {
        _ = answer(command)
        world.withLock { $0.sessionsStarted += 1 }
        return FakeSession(engine: self)
    }

    /// The SQL sessions were sent, in order.
    var sent: [String] { world.withLock { $0.sent } }
    fileprivate func record(_ text: String) { world.withLock { $0.sent.append(text) } }

    /// The `lease_…` databases a lease server holds, as the SQL sent to it made and dropped them: what a list
    /// query (one that names `lease\_%`) answers; every other request answers no lines.
    fileprivate func serverNames(after text: String) -> [String] {
        func names(_ pattern: String) -> [String] {
            guard let regex = try? NSRegularExpression(pattern: pattern) else { return [] }
            return regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap {
                Range($0.range(at: 1), in: text).map { String(text[$0]) }
            }
        }
        return world.withLock { w in
            w.leaseNames.formUnion(names(#"CREATE DATABASE [`"]?(lease_[0-9a-z_]+)"#))
            w.leaseNames.subtract(names(#"DROP DATABASE (?:IF EXISTS )?[`"]?(lease_[0-9a-z_]+)"#))
            return text.contains("lease\\_%") ? w.leaseNames.sorted() : []
        }
    }

    private func answer(_ command: DockerCommand) -> Docker.Output {
        let argv = command.arguments
        let script = (try? command.input()).flatMap { $0 }.flatMap { data -> String? in
            guard command.script != nil, let first = String(decoding: data, as: UTF8.self).split(separator: "\n").first else { return nil }
            return Data(base64Encoded: String(first)).map { String(decoding: $0, as: UTF8.self) }
        }
        return world.withLock { w in
            w.commands.append(argv)
            if let script { w.scripts.append(script) }
            let verb = argv.first == "image" || argv.first == "network" ? argv[0] + " " + argv[1] : argv[0]
            if let index = w.failures.firstIndex(where: { $0.verb == verb }) {
                let failure = w.failures[index]
                w.failures[index].times -= 1
                if w.failures[index].times == 0 { w.failures.remove(at: index) }
                return Docker.Output(status: failure.status, stderr: failure.stderr)
            }
            return Self.carryOut(verb, argv, &w)
        }
    }

    private static func carryOut(_ verb: String, _ argv: [String], _ w: inout World) -> Docker.Output {
        switch verb {
        case "ps": return list(argv, w)
        case "image inspect": return inspectImages(Array(argv.dropFirst(4)), w)
        case "run": return runContainer(Array(argv.dropFirst()), &w)
        case "create":
            var args = Array(argv.dropFirst())
            args.insert("--detach", at: 0)
            let out = runContainer(args, &w)
            if let name = value("--name", in: argv) { w.containers[name]?.state = "created" }
            return out
        case "rename":
            guard let c = find(argv[1], w) else { return noSuch(argv[1]) }
            if w.containers[argv[2]] != nil {
                return Docker.Output(status: 1, stderr: "Error response from daemon: Conflict. The container name \"/\(argv[2])\" is already in use")
            }
            w.containers[c.name] = nil
            var renamed = c
            renamed.name = argv[2]
            w.containers[argv[2]] = renamed
            return Docker.Output(status: 0)
        case "network create":
            guard let name = argv.last, !w.networks.contains(name) else {
                return Docker.Output(status: 1, stderr: "Error response from daemon: network with name \(argv.last ?? "") already exists")
            }
            w.networks.insert(name)
            var labels: [String: String] = [:]
            for (flag, value) in zip(argv, argv.dropFirst()) where flag == "--label" {
                let pair = value.split(separator: "=", maxSplits: 1).map(String.init)
                if pair.count == 2 { labels[pair[0]] = pair[1] }
            }
            w.networkLabels[name] = labels
            return Docker.Output(status: 0, stdout: "f00d\n")
        case "network ls":
            let wanted = zip(argv, argv.dropFirst()).filter { $0.0 == "--filter" && $0.1.hasPrefix("label=") }.map { String($0.1.dropFirst(6)) }
            let names = w.networks.sorted().filter { name in
                wanted.allSatisfy { filter in
                    let pair = filter.split(separator: "=", maxSplits: 1).map(String.init)
                    return pair.count == 2 && w.networkLabels[name]?[pair[0]] == pair[1]
                }
            }
            return Docker.Output(status: 0, stdout: names.map { $0 + "\n" }.joined())
        case "network rm":
            let name = argv.last ?? ""
            guard w.networks.contains(name) else { return Docker.Output(status: 1, stderr: "Error: No such network: \(name)") }
            if let user = w.containers.values.first(where: { $0.network == name }) {
                return Docker.Output(status: 1, stderr: "Error response from daemon: error while removing network: network \(name) id f00d "
                                         + "has active endpoints (\(user.name))")
            }
            w.networks.remove(name)
            w.networkLabels[name] = nil
            return Docker.Output(status: 0)
        case "start", "restart":
            for name in argv.dropFirst() {
                guard let c = find(name, w) else { return noSuch(name) }
                w.containers[c.name]?.state = "running"
                markReady(c.mounts, &w)
            }
            return Docker.Output(status: 0)
        case "stop":
            // Every argument but the options and the number `--time` takes (a container id may be all digits).
            let names = argv.dropFirst().enumerated().filter { i, a in !a.hasPrefix("-") && (i == 0 || !["--time", "-t"].contains(argv[i])) }
            for (_, name) in names {
                guard let c = find(name, w) else { return noSuch(name) }
                w.containers[c.name]?.state = "exited"
            }
            return Docker.Output(status: 0)
        case "rm":
            for name in argv.dropFirst() where name != "--force" {
                guard let c = find(name, w) else { return noSuch(name) }
                w.containers[c.name] = nil
            }
            return Docker.Output(status: 0)
        case "inspect":
            guard let c = find(argv.last ?? "", w) else { return noSuch(argv.last ?? "") }
            return Docker.Output(status: 0, stdout: c.state + "\n")
        case "exec":
            let target = argv[argv.firstIndex(of: "--user")! + 2]
            guard let c = find(target, w) else { return noSuch(target) }
            return c.state == "running" ? Docker.Output(status: 0)
                : Docker.Output(status: 1, stderr: "Error response from daemon: Container \(c.id) is not running")
        case "build", "import":
            let tag = verb == "build" ? value("--tag", in: argv)! : argv.last!
            var labels: [String: String] = [:]
            for (i, arg) in argv.enumerated() where arg == "--label" || arg == "--change" {
                let pair = argv[i + 1].replacingOccurrences(of: "LABEL ", with: "")
                if let eq = pair.firstIndex(of: "=") { labels[String(pair[..<eq])] = String(pair[pair.index(after: eq)...]) }
            }
            w.images[tag] = labels
            return Docker.Output(status: 0, stdout: "Successfully tagged \(tag)\n")
        case "tag":
            guard let labels = w.images[argv[1]] else { return Docker.Output(status: 1, stderr: "Error response from daemon: No such image: \(argv[1])") }
            w.images[argv[2]] = labels
            return Docker.Output(status: 0)
        case "image rm":
            w.images[argv[2]] = nil
            return Docker.Output(status: 0)
        case "pull":
            return w.images[argv.last!] != nil ? Docker.Output(status: 0)
                : Docker.Output(status: 1, stderr: "Error response from daemon: manifest for \(argv.last!) not found: manifest unknown")
        case "logs": return Docker.Output(status: 0, stdout: "fake log line\n")
        case "info": return Docker.Output(status: 0, stdout: argv.contains("{{.ID}} {{.DockerRootDir}}") ? "FAKE:ID /var/lib/fake\n" : "\"20.10.24\"\n")
        case "version": return Docker.Output(status: 0, stdout: #"{"Server":{"Version":"20.10.24"}}"#)
        default: return Docker.Output(status: 1, stderr: "fake engine: no answer for `docker \(argv.joined(separator: " "))`")
        }
    }

    private static func value(_ flag: String, in argv: [String]) -> String? {
        argv.firstIndex(of: flag).map { argv[$0 + 1] }
    }

    private static func find(_ nameOrID: String, _ w: World) -> Container? {
        w.containers[nameOrID] ?? w.containers.values.first { $0.id == nameOrID }
    }

    private static func noSuch(_ name: String) -> Docker.Output {
        Docker.Output(status: 1, stderr: "Error response from daemon: No such container: \(name)")
    }

    /// As the entry script does once the check passes: the run folder's `once` script run (kept with the scripts) and
    /// marked done, unless `onceFails`; then the readiness marker.
    private static func markReady(_ mounts: [String], _ w: inout World) {
        if let once = mounts.lazy.compactMap({ FileManager.default.contents(atPath: $0 + "/once") }).first, !w.onceFails {
            w.scripts.append(String(decoding: once, as: UTF8.self))
            for folder in mounts { FileManager.default.createFile(atPath: Readiness.onceDone(URL(fileURLWithPath: folder)).path, contents: nil) }
        }
        for folder in mounts { FileManager.default.createFile(atPath: folder + "/" + Readiness.markerName, contents: nil) }
    }

    private static func list(_ argv: [String], _ w: World) -> Docker.Output {
        var wanted: [String: String] = [:]
        for (i, arg) in argv.enumerated() where arg == "--filter" {
            let pair = argv[i + 1].dropFirst("label=".count)
            if let eq = pair.firstIndex(of: "=") { wanted[String(pair[..<eq])] = String(pair[pair.index(after: eq)...]) }
        }
        let lines = w.containers.values.sorted { $0.name < $1.name }.filter { c in wanted.allSatisfy { c.labels[$0.key] == $0.value } }.map { c in
            let labels = c.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            return JSONLine.text(["ID": c.id, "Names": c.name, "Image": c.image, "State": c.state, "Labels": labels, "Ports": c.ports])
        }
        return Docker.Output(status: 0, stdout: lines.map { $0 + "\n" }.joined())
    }

    private static func inspectImages(_ tags: [String], _ w: World) -> Docker.Output {
        var out = "", missing: [String] = []
        for tag in tags {
            guard let labels = w.images[tag] else { missing.append(tag); continue }
            out += #"{"Id":"sha256:\#(tag.utf8.reduce(7) { ($0 &* 31 &+ Int($1)) & 0xffffff })","RepoTags":["\#(tag)"],"#
                + #""Config":{"Labels":\#(JSONLine.text(labels))}}"# + "\n"
        }
        return Docker.Output(status: missing.isEmpty ? 0 : 1, stdout: out,
                             stderr: missing.map { "Error: No such image: \($0)\n" }.joined())
    }

    private static func runContainer(_ args: [String], _ w: inout World) -> Docker.Output {
        var name = "", labels: [String: String] = [:], mounts: [String] = [], ports = "", detached = false, remove = false
        var network: String?
        var i = 0
        while i < args.count, args[i].hasPrefix("--") {
            let flag = args[i]
            switch flag {
            case "--detach": detached = true
            case "--rm": remove = true
            case "--interactive", "--init": break
            default:
                let v = args[i + 1]
                i += 1
                switch flag {
                case "--name": name = v
                case "--label":
                    if let eq = v.firstIndex(of: "=") { labels[String(v[..<eq])] = String(v[v.index(after: eq)...]) }
                case "--mount":
                    if let source = v.split(separator: ",").first(where: { $0.hasPrefix("source=") }) {
                        let path = String(source.dropFirst(7))
                        guard FileManager.default.fileExists(atPath: path) else {
                            return Docker.Output(status: 125, stderr: "docker: Error response from daemon: invalid mount config for type \"bind\": "
                                                     + "bind source path does not exist: \(path).")
                        }
                        // A read-only mount (a live source folder) is never written to.
                        if !v.hasSuffix(",readonly") { mounts.append(path) }
                    }
                case "--network": network = v
                case "--publish":
                    let parts = v.split(separator: ":")
                    ports = "\(parts[0]):\(parts[1])->\(parts[2])/tcp"
                default: break
                }
            }
            i += 1
        }
        let image = args[i]
        if let network, network != "none", !w.networks.contains(network) {
            return Docker.Output(status: 125, stderr: "docker: Error response from daemon: network \(network) not found.")
        }
        guard w.images[image] != nil else {
            return Docker.Output(status: 125, stderr: "Unable to find image '\(image)' locally\ndocker: Error response from daemon: pull access denied")
        }
        if let other = w.containers[name] {
            return Docker.Output(status: 125, stderr: #"docker: Error response from daemon: Conflict. "#
                                     + #"The container name "/\#(name)" is already in use by container "\#(other.id)"."#)
        }
        if !ports.isEmpty, let taken = w.containers.values.first(where: { $0.state == "running" && $0.ports.split(separator: "-").first == ports.split(separator: "-").first }) {
            return Docker.Output(status: 125, stderr: "docker: Error response from daemon: driver failed programming external connectivity "
                                     + "on endpoint \(taken.name): Bind for \(ports.split(separator: "-")[0]) failed: port is already allocated.")
        }
        let id = Formatting.hex(UInt64(w.nextID), width: 12)
        w.nextID += 1
        if !detached {
            for folder in mounts { FileManager.default.createFile(atPath: folder + "/initialised", contents: Data("by the fake engine\n".utf8)) }
            if !remove { w.containers[name] = Container(id: id, name: name, image: image, labels: labels, state: "exited", ports: ports, mounts: mounts) }
            return Docker.Output(status: 0)
        }
        w.containers[name] = Container(id: id, name: name, image: image, labels: labels, state: "running", ports: ports, mounts: mounts,
                                       network: network)
        markReady(mounts, &w)
        return Docker.Output(status: 0, stdout: id + "\n")
    }
}

/// A session as the real one behaves around its end: a request sent once it is ending fails as undelivered, and it
/// reads as closed from then on; each request gives way to other tasks before it is answered (a round trip), so
/// requests of several tasks interleave.
final class FakeSession: EngineSession {
    let engine: FakeEngine
    private let state = Mutex((ending: false, gone: false, answered: 0))
    init(engine: FakeEngine) { self.engine = engine }
    var isOpen: Bool { !state.withLock { $0.gone } }
    func send(_ text: String, markerText: String, marker: String, timeout: Duration) async throws(SandboxError) -> [String] {
        let life = engine.sessionLife
        let ended = state.withLock { s in
            if let life, s.answered >= life { s.ending = true }
            s.answered += 1
            if s.ending { s.gone = true }
            return s.ending
        }
        guard !ended else { throw EngineSessions.undelivered("fake session", detail: "server closed the connection unexpectedly") }
        for _ in 0..<3 { await Task.yield() }
        engine.record(text)
        return engine.serverNames(after: text)
    }
    func close() async { state.withLock { $0.ending = true; $0.gone = true } }
}
