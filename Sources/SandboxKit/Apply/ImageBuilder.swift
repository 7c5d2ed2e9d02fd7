import Foundation
import SandboxBase
import SandboxRecipes
import SandboxEngine
import SandboxHost

/// Makes images present: bases (local, pulled or bootstrapped) and recipe builds.
package protocol ImageProviding: Sendable {
    func ensureBase(_ tag: String, recipe: ImageRecipe?, line: @escaping @Sendable (String) -> Void) async throws(SandboxError)
    func build(_ image: ResolvedImage, line: @escaping @Sendable (String) -> Void) async throws(SandboxError)
}

/// The engine's images: external bases (local, pulled, or bootstrapped from a Debian mirror) and recipe builds.
package struct ImageBuilder: ImageProviding {
    package var docker: Docker
    /// Where bootstrap locks and scratch folders go.
    package var stateDirectory: URL

    /// The checkout, where builds from it leave their list of files (`ImageManifest`).
    package var checkout: Checkout?

    package init(docker: Docker, stateDirectory: URL, checkout: Checkout? = nil) {
        self.docker = docker
        self.stateDirectory = stateDirectory
        self.checkout = checkout
    }

    /// Images are machine-wide, so the locks that guard making them are too.
    static var locks: URL { URL(fileURLWithPath: "/tmp/sandbox-locks-\(getuid())") }

    func present(_ tag: String) async throws(SandboxError) -> Bool {
        try await docker.run(.inspectImages([tag]), check: false).status == 0
    }

    package func ensureBase(_ tag: String, recipe: ImageRecipe?, line: @escaping @Sendable (String) -> Void) async throws(SandboxError) {
        if try await present(tag) { return }
        line("pulling \(tag)")
        let pulled = try await docker.run(.pull(tag), check: false)
        if pulled.status == 0 { return }
        if pulled.failure == .engineDown { throw docker.failure(.pull(tag), pulled) }
        guard let recipe, let bootstrap = recipe.bootstrap else {
            throw SandboxError(.baseImageUnavailable, "base image \(tag) is not here and cannot be pulled",
                               fix: "load it (`docker load`), make a registry reachable, or add a bootstrap recipe for it in Images/ (see docs/recipes.md)",
                               detail: Docker.tail(pulled.stderr, lines: 3))
        }
        line("no registry answered (\(Docker.tail(pulled.stderr, lines: 1))); bootstrapping \(tag) from a Debian mirror")
        try await self.bootstrap(tag, bootstrap, line: line)
    }

    /// debootstrap into a scratch folder, then `docker import`; once, under a lock, however many `up`s run at once.
    func bootstrap(_ tag: String, _ spec: ImageRecipe.Bootstrap, line: @escaping @Sendable (String) -> Void) async throws(SandboxError) {
        let lockDir = stateDirectory.appendingPathComponent("bootstrap")
        let lock = try await FileLock.acquire(Self.locks.appendingPathComponent("base-\(tag.replacingOccurrences(of: "/", with: "_")).lock")) {
            line("waiting for another sandbox process that is bootstrapping \(tag)")
        }
        defer { withExtendedLifetime(lock) {} }
        if try await present(tag) { return }
        guard getuid() == 0 else {
            throw SandboxError(.baseImageUnavailable, "base image \(tag) must be bootstrapped with debootstrap, which needs root",
                               fix: "run `sudo sandbox build` once (later runs need no root), or `docker pull`/`docker load` \(tag)")
        }
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/debootstrap") else {
            throw SandboxError(.baseImageUnavailable, "base image \(tag) cannot be pulled and debootstrap is not installed",
                               fix: "sudo apt-get install debootstrap (Scripts/engine-up does it), then run sandbox again")
        }
        let root = lockDir.appendingPathComponent("rootfs-\(getpid())")
        let tarball = lockDir.appendingPathComponent("rootfs-\(getpid()).tar")
        defer {
            try? FileManager.default.removeItem(at: root)
            try? FileManager.default.removeItem(at: tarball)
            rmdir(lockDir.path)  // only if empty: another bootstrap may be using it
        }
        let mirror = AptMirror.forSuite(spec.suite)
        var args = ["--variant=\(spec.variant)"]
        if !spec.include.isEmpty { args.append("--include=\(spec.include.joined(separator: ","))") }
        args += [spec.suite, root.path, mirror]
        line("debootstrap \(args.joined(separator: " "))")
        try await Self.host("/usr/sbin/debootstrap", args, line: line, failure: { tail in
            SandboxError(.baseImageUnavailable, "debootstrap of \(spec.suite) from \(mirror) failed",
                         fix: "check that the host reaches its Debian mirror (`apt-get update`), then run sandbox again", detail: tail)
        })
        try await Self.host("/bin/tar", ["-C", root.path, "-cf", tarball.path, "."], line: line, failure: { tail in
            SandboxError(.io, "packing the bootstrapped \(spec.suite) failed", fix: "check free disk space", detail: tail)
        })
        try await docker.run(.importImage(tarball: tarball.path, tag: tag, labels: [Label.component: "bootstrap-\(spec.suite)"]))
        line("imported \(tag)")
    }

    static func host(_ path: String, _ args: [String], line: @escaping @Sendable (String) -> Void,
                     failure: (String) -> SandboxError) async throws(SandboxError) {
        let result = try await HostCommand.run(path, args, line: line)
        if result.status != 0 { throw failure(result.tail) }
    }

    package func build(_ image: ResolvedImage, line: @escaping @Sendable (String) -> Void) async throws(SandboxError) {
        // Instances of one sandbox share its images: one build, the others wait and find it done.
        let lock = try await FileLock.acquire(Self.locks.appendingPathComponent("build-\(image.tag.replacingOccurrences(of: "/", with: "_")).lock")) {
            line("waiting for another sandbox process that is building \(image.tag)")
        }
        defer { withExtendedLifetime(lock) {} }
        let out = try await docker.run(.inspectImages([image.tag]), check: false)
        if out.status == 0, out.stdout.contains("\"\(Label.imageHash)\":\"\(image.hash)\"") { return }
        let context = stateDirectory.appendingPathComponent("build").appendingPathComponent("\(image.recipe.name)-\(getpid())")
        try? FileManager.default.removeItem(at: context)
        defer {
            try? FileManager.default.removeItem(at: context)
            rmdir(context.deletingLastPathComponent().path)  // only if empty: another build may be using it
        }
        try Self.writeContext(image, to: context)
        var labels = [Label.imageHash: image.hash, Label.component: image.recipe.name]
        if let live = image.liveHash { labels[Label.liveHash] = live }
        if let dockerfile = image.recipe.dockerfile, let project = image.context {
            try await buildProject(image, dockerfile: dockerfile, context: project, labels: labels, line: line)
        }
        do {
            _ = try await docker.stream(.build(tag: image.tag, context: context.path, labels: labels), line: line)
            if let files = image.context?.files { ImageManifest.write(files, hash: image.hash) }
        } catch {
            guard error.code == .dockerFailed else { throw error }
            // apt's own words ("E: Unable to locate package x") say which package; put them in the message.
            let apt = (error.detail ?? "").split(separator: "\n").filter { $0.hasPrefix("E: ") }.map { $0.dropFirst(3) }
            throw SandboxError(.buildFailed, "building \(image.tag) failed\(Self.failedStep(error.detail ?? "", image).map { " at \($0)" } ?? "")"
                               + (apt.isEmpty ? "" : ": " + apt.joined(separator: "; ")),
                               fix: "fix that step in \(image.recipe.path) and run sandbox again; Docker's cache keeps the steps before it",
                               detail: error.detail)
        }
    }

    /// The project's own Dockerfile, built as it is (its `.dockerignore` applies as the docker CLI reads it) into the
    /// image sandbox then adds its entry script to.
    func buildProject(_ image: ResolvedImage, dockerfile: String, context: BuildContext, labels: [String: String],
                      line: @escaping @Sendable (String) -> Void) async throws(SandboxError) {
        let path = checkout?.root.appendingPathComponent(dockerfile).path ?? dockerfile
        let command = DockerCommand.build(tag: DockerfileRenderer.projectTag(image), context: context.root.path, labels: labels, dockerfile: path)
        do {
            _ = try await docker.stream(command, line: line)
        } catch {
            guard error.code == .dockerFailed else { throw error }
            throw SandboxError(.buildFailed, "building \(image.tag) from \(dockerfile) failed",
                               fix: "fix \(dockerfile) or its context \(context.display) (the build's last lines are above; "
                                   + "`docker build -f \(dockerfile) \(context.display)` repeats it), then run sandbox again",
                               detail: error.detail)
        }
    }

    /// Maps the classic builder's last `Step N/M : ...` line back to the recipe's build step.
    static func failedStep(_ output: String, _ image: ResolvedImage) -> String? {
        guard let stepLine = output.split(separator: "\n").last(where: { $0.hasPrefix("Step ") }) else { return nil }
        let text = stepLine.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        let rendered = DockerfileRenderer.render(image).split(separator: "\n").map(String.init)
        guard let index = rendered.firstIndex(of: text) else { return "'\(text.prefix(80))'" }
        // Line 0 is FROM; lines map to build steps in order, except chmod lines after a copy.
        var lineNo = 1
        for (i, step) in image.recipe.build.enumerated() {
            let count: Int
            switch step {
            case let .copy(_, _, mode): count = mode == nil ? 1 : 2
            case let .env(values): count = values.count
            default: count = 1
            }
            if index < lineNo + count { return "build step \(i + 1) (\(Self.describe(step)))" }
            lineNo += count
        }
        return "'\(text.prefix(80))'"
    }

    static func describe(_ step: ImageRecipe.BuildStep) -> String {
        switch step {
        case let .apt(p): return "apt: \(p.joined(separator: ", "))"
        case let .run(s): return "run: \(s.prefix(60))"
        case let .copy(src, dest, _): return "copy: \(src) -> \(dest)"
        case let .env(v): return "env: \(v.keys.sorted().joined(separator: ", "))"
        }
    }

    /// A build context folder: the Dockerfile, the entry script and every copied file; for an image built from the
    /// checkout, `context/` with exactly the files its hash covers (hard links where the disk allows, links kept as links).
    static func writeContext(_ image: ResolvedImage, to directory: URL) throws(SandboxError) {
        try FileSystem.ensureDirectory(directory.appendingPathComponent("files"))
        if let context = image.context, image.recipe.dockerfile == nil { try stage(context, into: directory.appendingPathComponent("context")) }
        do {
            try Data(DockerfileRenderer.render(image).utf8).write(to: directory.appendingPathComponent("Dockerfile"))
            let entry = directory.appendingPathComponent("sandbox-entry")
            try Data(EntryScript.text.utf8).write(to: entry)
            chmod(entry.path, 0o755)
            for (index, step) in image.recipe.build.enumerated() {
                guard case let .copy(source, _, _) = step, let path = image.files[source] else { continue }
                try FileManager.default.copyItem(atPath: path, toPath: directory.appendingPathComponent(DockerfileRenderer.contextName(index)).path)
            }
        } catch {
            throw SandboxError(.io, "cannot write the build context for \(image.tag): \(error.localizedDescription)",
                               fix: "check free space and permissions in \(directory.deletingLastPathComponent().path)")
        }
    }
}

extension ImageBuilder {
    /// Puts the context's files (as `BuildContext` listed them) under `folder`.
    static func stage(_ context: BuildContext, into folder: URL) throws(SandboxError) {
        let fm = FileManager.default
        do {
            try fm.createDirectory(at: folder, withIntermediateDirectories: true)
            for relative in context.files.keys.sorted() {
                let source = context.root.appendingPathComponent(relative), target = folder.appendingPathComponent(relative)
                try fm.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
                if let destination = try? fm.destinationOfSymbolicLink(atPath: source.path) {
                    try fm.createSymbolicLink(atPath: target.path, withDestinationPath: destination)
                } else if link(source.path, target.path) != 0 {
                    try fm.copyItem(at: source, to: target)
                }
            }
        } catch {
            throw SandboxError(.io, "cannot prepare the build context \(context.display): \(error.localizedDescription)",
                               fix: "check free space in \(folder.deletingLastPathComponent().path), and that \(context.display) is readable")
        }
    }
}
