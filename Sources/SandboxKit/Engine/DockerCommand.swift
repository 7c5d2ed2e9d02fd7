import Foundation
import SandboxBase
import SandboxRecipes

/// One `docker` invocation as a value: its argv, checked by unit tests without running anything.
package struct DockerCommand: Sendable, Equatable {
    package var arguments: [String]
    /// A host file fed to standard input (SQL for `exec`).
    package var stdinFile: String?
    /// A script fed to standard input ahead of `stdinFile`, read by `scriptReader`: it never appears in an argv.
    package var script: String?
    /// Extra environment for the docker CLI itself.
    package var environment: [String: String] = [:]

    package init(_ arguments: [String], stdinFile: String? = nil, script: String? = nil, environment: [String: String] = [:]) {
        self.arguments = arguments
        self.stdinFile = stdinFile
        self.script = script
        self.environment = environment
    }

    /// The `sh -c` program that reads a script from the first line of standard input (base64, so it is one line)
    /// and runs it; the rest of standard input is left for the script's commands. Scripts hold passwords, and an
    /// argv is visible to every user of the host (`ps`), a pipe is not.
    package static let scriptReader = #"IFS= read -r s && eval "$(printf %s "$s" | base64 -d)""#

    /// What goes to standard input: the encoded script line, then the file.
    package func input() throws -> Data? {
        guard script != nil || stdinFile != nil else { return nil }
        var data = Data()
        if let script { data += Data((Data(script.utf8).base64EncodedString() + "\n").utf8) }
        if let stdinFile {
            // Resolved (links followed, inside Recipes/) when the recipe was read: a link put in its place since is not followed.
            guard ContainedPath.realPath(stdinFile) == stdinFile else {
                throw SandboxError(.stepFailed, "\(stdinFile) changed into a link (or went away) after the recipes were read",
                                   fix: "make it a plain file inside Recipes/ again, then run the command again")
            }
            data += try Data(contentsOf: URL(fileURLWithPath: stdinFile))
        }
        return data
    }

    /// How the command is shown in errors and logs.
    package var display: String { (["docker"] + arguments).map(shellQuote).joined(separator: " ") }
}

/// Labels on every docker object sandbox creates; commands only touch objects whose labels say they are their own.
package enum Label {
    package static let prefix = "dev.sandbox"
    package static let sandbox = "\(prefix).sandbox"
    package static let instance = "\(prefix).instance"
    package static let checkout = "\(prefix).checkout"
    package static let checkoutPath = "\(prefix).checkout-path"
    package static let service = "\(prefix).service"
    package static let role = "\(prefix).role"
    package static let configHash = "\(prefix).config-hash"
    package static let imageHash = "\(prefix).image-hash"
    /// An image's content hash without its live folder's files (see `ResolvedImage.liveHash`).
    package static let liveHash = "\(prefix).live-hash"
    package static let component = "\(prefix).component"
}

extension DockerCommand {
    static let jsonFormat = "{{json .}}"

    /// Containers (running or not) carrying every one of `labels`.
    package static func listContainers(labels: [String: String]) -> DockerCommand {
        var args = ["ps", "--all", "--no-trunc"]
        for (key, value) in labels.sorted(by: { $0.key < $1.key }) { args += ["--filter", "label=\(key)=\(value)"] }
        return DockerCommand(args + ["--format", jsonFormat])
    }

    /// Images by tag; missing tags are reported on stderr while found ones still print.
    package static func inspectImages(_ tags: [String]) -> DockerCommand {
        DockerCommand(["image", "inspect", "--format", jsonFormat] + tags)
    }

    package static func build(tag: String, context: String, labels: [String: String], dockerfile: String? = nil) -> DockerCommand {
        var args = ["build", "--tag", tag, "--rm", "--force-rm"]
        if let dockerfile { args += ["--file", dockerfile] }
        for (key, value) in labels.sorted(by: { $0.key < $1.key }) { args += ["--label", "\(key)=\(value)"] }
        // The classic builder: engines without buildx, and Dockerfiles that need no BuildKit syntax.
        return DockerCommand(args + [context], environment: ["DOCKER_BUILDKIT": "0"])
    }

    package static func pull(_ image: String) -> DockerCommand { DockerCommand(["pull", "--quiet", image]) }

    package static func importImage(tarball: String, tag: String, labels: [String: String]) -> DockerCommand {
        var args = ["import"]
        for (key, value) in labels.sorted(by: { $0.key < $1.key }) { args += ["--change", "LABEL \(key)=\(value)"] }
        return DockerCommand(args + ["--change", "CMD [\"/bin/bash\"]", tarball, tag])
    }

    /// A host folder bound into a container.
    package struct Mount: Sendable, Equatable {
        package var source: String
        package var target: String
        package var readOnly = false

        package init(_ source: String, at target: String, readOnly: Bool = false) {
            self.source = source
            self.target = target
            self.readOnly = readOnly
        }

        /// As the container's configuration hash records it.
        package var text: String { "\(source):\(target)\(readOnly ? ":ro" : "")" }
    }

    /// A container as `sandbox` runs them: named, labelled, data mounted, port published, stopped gracefully.
    package struct RunSpec: Sendable, Equatable {
        package var name: String
        package var image: String
        package var labels: [String: String]
        package var environment: [String: String] = [:]
        package var mounts: [Mount] = []
        /// Host address, host port, container port.
        package var publish: (String, Int, Int)?
        package var stopSignal: String?
        package var stopTimeout: Int?
        package var network: String?
        /// Names the container has on `network` besides its own (`--network-alias`): the service name.
        package var networkAliases: [String] = []
        /// `--restart`: `unless-stopped` brings a service back after the engine (or the machine) restarts.
        package var restart: String?
        /// A script the container's command runs from standard input (`--interactive`, command `scriptReader`).
        package var script: String?
        /// `--init`: a tiny init as PID 1 that forwards signals to the service and reaps orphans.
        package var initProcess = false
        package var detached = true
        package var remove = false
        package var command: [String] = []

        package init(name: String, image: String, labels: [String: String]) {
            self.name = name
            self.image = image
            self.labels = labels
        }

        package static func == (a: RunSpec, b: RunSpec) -> Bool { DockerCommand.run(a) == DockerCommand.run(b) }
    }

    package static func run(_ spec: RunSpec) -> DockerCommand {
        var args = ["run"]
        if spec.detached { args.append("--detach") }
        if spec.remove { args.append("--rm") }
        if spec.script != nil { args.append("--interactive") }
        if spec.initProcess { args.append("--init") }
        args += ["--name", spec.name]
        for (key, value) in spec.labels.sorted(by: { $0.key < $1.key }) { args += ["--label", "\(key)=\(value)"] }
        for (key, value) in spec.environment.sorted(by: { $0.key < $1.key }) { args += ["--env", "\(key)=\(value)"] }
        for mount in spec.mounts {
            args += ["--mount", "type=bind,source=\(mount.source),target=\(mount.target)" + (mount.readOnly ? ",readonly" : "")]
        }
        if let (address, hostPort, containerPort) = spec.publish { args += ["--publish", "\(address):\(hostPort):\(containerPort)"] }
        if let signal = spec.stopSignal { args += ["--stop-signal", signal] }
        if let timeout = spec.stopTimeout { args += ["--stop-timeout", String(timeout)] }
        if let network = spec.network { args += ["--network", network] }
        for alias in spec.networkAliases { args += ["--network-alias", alias] }
        if let restart = spec.restart { args += ["--restart", restart] }
        if let script = spec.script { return DockerCommand(args + [spec.image, scriptReader], script: script) }
        return DockerCommand(args + [spec.image] + spec.command)
    }

    /// A script in a running container as `user`, delivered on standard input (then `stdinFile`, if any).
    package static func exec(_ container: String, user: String, script: String, stdinFile: String? = nil) -> DockerCommand {
        DockerCommand(["exec", "--interactive", "--user", user, container, "/bin/sh", "-c", scriptReader],
                      stdinFile: stdinFile, script: script)
    }

    /// A program that stays running in a container as `user`, reading its requests from standard input after the script
    /// that starts it (an `EngineSession`).
    package static func session(_ container: String, user: String, script: String) -> DockerCommand {
        DockerCommand(["exec", "--interactive", "--user", user, container, "/bin/sh", "-c", scriptReader], script: script)
    }

    /// A program in a running container as `user`, attached to this process's standard input (and terminal, with `tty`).
    package static func execAttached(_ container: String, user: String, argv: [String], tty: Bool) -> DockerCommand {
        DockerCommand(["exec", "--interactive"] + (tty ? ["--tty"] : []) + ["--user", user, container] + argv)
    }

    /// A container's state (`running`, `exited`, ...), one word on stdout.
    package static func containerState(_ container: String) -> DockerCommand {
        DockerCommand(["inspect", "--type", "container", "--format", "{{.State.Status}}", container])
    }

    package static func start(_ containers: [String]) -> DockerCommand { DockerCommand(["start"] + containers) }

    package static func stop(_ containers: [String], timeout: Int? = nil) -> DockerCommand {
        DockerCommand(["stop"] + (timeout.map { ["--time", String($0)] } ?? []) + containers)
    }

    package static func remove(_ containers: [String], force: Bool = false) -> DockerCommand {
        DockerCommand(["rm"] + (force ? ["--force"] : []) + containers)
    }

    package static func logs(_ container: String, tail: Int? = nil, follow: Bool = false) -> DockerCommand {
        var args = ["logs"]
        if let tail { args += ["--tail", String(tail)] }
        if follow { args.append("--follow") }
        return DockerCommand(args + [container])
    }

    /// A container made but not started (to export its files).
    package static func create(name: String, image: String, labels: [String: String], network: String, command: [String]) -> DockerCommand {
        var args = ["create", "--name", name, "--network", network]
        for (key, value) in labels.sorted(by: { $0.key < $1.key }) { args += ["--label", "\(key)=\(value)"] }
        return DockerCommand(args + [image] + command)
    }

    package static func tag(_ source: String, as target: String) -> DockerCommand { DockerCommand(["tag", source, target]) }

    package static func push(_ reference: String) -> DockerCommand { DockerCommand(["push", "--quiet", reference]) }

    /// Removes a tag (the image itself stays while another tag names it).
    package static func removeImage(_ reference: String) -> DockerCommand { DockerCommand(["image", "rm", reference]) }

    /// Images sandbox built (they carry its label) that no tag names any more, a JSON object a line.
    package static let danglingImages = DockerCommand(["images", "--filter", "dangling=true", "--filter", "label=\(Label.imageHash)",
                                                       "--no-trunc", "--format", jsonFormat])

    /// Every image with the disk only it takes and how many containers (of any checkout, running or not) were made
    /// from it: one JSON array.
    package static let imagesDiskUsage = DockerCommand(["system", "df", "--verbose", "--format", "{{json .Images}}"])

    /// Whether a registry holds a manifest (the local registry of a fleet speaks plain HTTP).
    package static func inspectManifest(_ reference: String) -> DockerCommand {
        DockerCommand(["manifest", "inspect", "--insecure", reference])
    }

    /// The engine's ID and data root, one line.
    package static let engineIdentity = DockerCommand(["info", "--format", "{{.ID}} {{.DockerRootDir}}"])

    /// An instance's own network, labelled as its containers are; answers "already exists" when it does.
    package static func createNetwork(_ name: String, labels: [String: String]) -> DockerCommand {
        var args = ["network", "create", "--driver", "bridge"]
        for (key, value) in labels.sorted(by: { $0.key < $1.key }) { args += ["--label", "\(key)=\(value)"] }
        return DockerCommand(args + [name])
    }

    package static func removeNetwork(_ name: String) -> DockerCommand { DockerCommand(["network", "rm", name]) }

    /// The names of the networks carrying every one of `labels`, a line each.
    package static func listNetworks(labels: [String: String]) -> DockerCommand {
        var args = ["network", "ls"]
        for (key, value) in labels.sorted(by: { $0.key < $1.key }) { args += ["--filter", "label=\(key)=\(value)"] }
        return DockerCommand(args + ["--format", "{{.Name}}"])
    }

    package static func rename(_ container: String, to name: String) -> DockerCommand { DockerCommand(["rename", container, name]) }

    /// Restarts containers with their stop signal and timeout.
    package static func restart(_ containers: [String]) -> DockerCommand { DockerCommand(["restart"] + containers) }

    package static let info = DockerCommand(["info", "--format", "{{json .ServerVersion}}"])
    package static let version = DockerCommand(["version", "--format", "{{json .}}"])
}
