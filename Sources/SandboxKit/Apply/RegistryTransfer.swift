import Foundation
import SandboxBase
import SandboxRecipes
import SandboxEngine
import SandboxHost
import SandboxObserve

/// Images and golden data to and from a registry (docs/fleet.md). Golden data travels as an image of one layer
/// whose files sit under `/sandbox-data/`, labelled with the hashes and the engine; what is pulled is checked
/// against the recipe's hashes before it is kept, and staged and renamed into place like data made here.
package struct RegistryTransfer: Sendable {
    var docker: Docker
    var line: @Sendable (String) -> Void

    static let dataFolder = "sandbox-data"

    /// `docker pull`, a check that the image carries the recipe's content hash, then the recipe's tag.
    func pull(_ image: ResolvedImage, from reference: String) async throws(SandboxError) {
        try await pullReference(reference)
        let labels = try await docker.run(.inspectImages([reference]))
        let found = Observer.parseImages(labels.stdout, wanted: [reference])[reference] ?? nil
        guard found == image.hash else {
            throw SandboxError(.dockerFailed, "the registry's \(reference) is not the image recipe \(image.tag) describes "
                                   + "(content hash \(found?.prefix(12) ?? "none"), expected \(image.hash.prefix(12)))",
                               fix: "push it again from a checkout with the same recipes (`sandbox push`), "
                                   + "or run `sandbox up` without --registry to build it here")
        }
        try await docker.run(.tag(reference, as: image.tag))
    }

    func pullReference(_ reference: String) async throws(SandboxError) {
        line("pulling \(reference)")
        let command = DockerCommand.pull(reference)
        let out = try await docker.run(command, check: false)
        guard out.status == 0 else {
            var error = docker.failure(command, out)
            error.fix = "check the registry answers (`docker manifest inspect --insecure \(reference)`), "
                + "or run `sandbox up` without --registry to build and initialise here"
            throw error
        }
    }

    /// Tags `tag` as each of `references` and pushes them.
    package func push(_ tag: String, as references: [String]) async throws(SandboxError) {
        for reference in references {
            try await docker.run(.tag(tag, as: reference))
            try await pushReference(reference)
        }
    }

    /// Pushes a local tag, then drops it: the engine keeps only the recipe's own tags.
    func pushReference(_ reference: String) async throws(SandboxError) {
        line("pushing \(reference)")
        let command = DockerCommand.push(reference)
        let out = try await docker.run(command, check: false)
        _ = try? await docker.run(.removeImage(reference), check: false)
        guard out.status == 0 else {
            var error = docker.failure(command, out)
            error.fix = "start the registry (Scripts/registry-up) or check its address; nothing was changed here"
            throw error
        }
    }

    /// Packs a golden data dir into an image of one layer, labelled with its stamp, and pushes it.
    package func pushGolden(_ folder: URL, stamp: DataStamp, service: String, as reference: String) async throws(SandboxError) {
        let labels = ["\(Label.prefix).fresh-hash=\(stamp.freshHash)", "\(Label.imageHash)=\(stamp.imageHash)",
                      "\(Label.prefix).engine=\(stamp.engine)", "\(Label.prefix).version=\(stamp.version)",
                      "\(Label.service)=\(service)", "\(Label.role)=golden-data"]
        // tar | docker import, with every path and label passed as an argument, never inside the script text.
        var arguments = ["-c", #"d="$1"; r="$2"; shift 2; tar -C "$d" --numeric-owner --transform 's,^\.,sandbox-data,' -cf - . | docker import "$@" - "$r""#,
                         "sh", folder.path, reference]
        for label in labels { arguments += ["--change", "LABEL \(label)"] }
        line("packing the golden data of \(service) as \(reference)")
        let packed = try await HostCommand.run("/bin/sh", arguments)
        guard packed.status == 0 else {
            throw SandboxError(.dockerFailed, "cannot pack the golden data of \(service) as an image", fix: "check the disk and the engine (`docker info`)",
                               detail: packed.tail)
        }
        try await pushReference(reference)
    }

    package init(docker: Docker, line: @escaping @Sendable (String) -> Void) {
        self.docker = docker
        self.line = line
    }
}

extension GoldenData {
    /// The golden data dir from the registry: pulled, unpacked into staging, checked against the recipe (engine,
    /// version, fresh hash, the update steps applied), stamped as it came and renamed into place. One process at a time.
    func pull(_ service: ResolvedService, from reference: String, updates: Set<String>) async throws(SandboxError) {
        try await whileMissing(service, doing: "pulling the set-up data of") { () async throws(SandboxError) in
            try await unpack(service, from: reference, updates: updates)
        }
    }

    private func unpack(_ service: ResolvedService, from reference: String, updates: Set<String>) async throws(SandboxError) {
        let golden = layout.golden(service)
        let staging = layout.goldenRoot.appendingPathComponent(".\(golden.lastPathComponent).staging")
        try FileSystem.remove(staging)
        try FileSystem.ensureDirectory(staging)
        let transfer = RegistryTransfer(docker: docker, line: line)
        do throws(SandboxError) {
            try await transfer.pullReference(reference)
            let name = layout.containerName(sandbox: sandbox.name, ["golden", "pull", service.name])
            try await docker.forceRemove([name])
            var labels = layout.labels(sandbox: sandbox.name)
            labels[Label.role] = "golden"
            labels[Label.instance] = "golden"
            try await docker.run(.create(name: name, image: reference, labels: labels, network: "none", command: ["/sandbox-data-only"]))
            let unpacked = try await HostCommand.run("/bin/sh", [
                "-c", #"docker export "$1" | tar -x -C "$2" --numeric-owner -p --strip-components=1 sandbox-data"#,
                "sh", name, staging.path])
            try? await docker.forceRemove([name])
            _ = try? await docker.run(.removeImage(reference), check: false)
            guard unpacked.status == 0 else {
                throw SandboxError(.dataDirDamaged, "cannot unpack the golden data of \(service.name) from \(reference)",
                                   fix: "check the disk (`df -h .sandbox`), or run `sandbox up` without --registry to initialise here", detail: unpacked.tail)
            }
            guard let stamp = DataStamp.read(from: staging), stamp.engine == service.spec.engine, stamp.version == service.spec.version,
                  stamp.freshHash == service.freshHash, Set(stamp.updates.keys) == updates else {
                throw SandboxError(.dataDirDamaged, "the golden data of \(service.name) in the registry (\(reference)) does not match its recipe here",
                                   fix: "push it again from a checkout with the same recipes (`sandbox push`), "
                                       + "or run `sandbox up` without --registry to initialise here")
            }
        } catch {
            try? FileSystem.remove(staging)
            throw error
        }
        Readiness.clear(staging)
        FileSystem.syncFilesystem(staging)
        try FileSystem.move(staging, to: golden)
    }
}
