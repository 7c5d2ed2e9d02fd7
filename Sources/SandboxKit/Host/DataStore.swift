import Foundation
import SandboxBase
import SandboxRecipes
import SandboxEngine

/// Where a checkout's `.sandbox/` keeps its data: on the checkout's own filesystem, or in a data store, an XFS
/// filesystem with reflinks in an image file inside `.sandbox/` that is loop-mounted over `.sandbox/` itself.
///
/// With reflinks a fresh instance, a reset, a snapshot and a restore clone the golden or saved data in
/// constant time, whatever its size; on ext4 (no reflinks) each is a full copy. Paths do not change: the data
/// is still in host folders under `.sandbox/`, owned by the checkout's owner. The image sits under the mount,
/// so `.sandbox/` holds nothing else while the store is not mounted (after a restart): `sandbox` then mounts it
/// again when it may (root), and otherwise refuses to run rather than start over on the empty folder beneath.
package struct DataStore: Sendable {
    package var checkout: Checkout

    package init(checkout: Checkout) { self.checkout = checkout }

    package var directory: URL { checkout.stateDirectory }
    /// The image file; visible only while the store is not mounted.
    package var image: URL { directory.appendingPathComponent(Self.imageName) }
    /// Inside the store: what it is, so a mounted store is told from any other mount.
    package var record: URL { directory.appendingPathComponent(".store.json") }
    var partialImage: URL { directory.appendingPathComponent(Self.imageName + ".partial") }
    var partialMount: URL { directory.appendingPathComponent(".store-partial") }

    static let imageName = ".store.xfs"

    package enum State: String, Sendable, Codable {
        /// No store: `.sandbox/` is a folder of the checkout's filesystem.
        case none
        /// The store is mounted over `.sandbox/`.
        case mounted
        /// The image is there but not mounted (after a restart): the data is inside it.
        case unmounted
        /// `.sandbox/` is a mount of the person's own (a btrfs subvolume, an XFS disk): theirs to manage.
        case foreignMount = "foreign-mount"
    }

    package var state: State {
        if isMountPoint(directory) { return FileSystem.exists(record) ? .mounted : .foreignMount }
        return FileSystem.exists(image) ? .unmounted : .none
    }

    /// Called before any command reads or writes `.sandbox/`: mounts an unmounted store (as root), or refuses.
    package func ensureMounted() throws(SandboxError) {
        guard state == .unmounted else { return }
        guard geteuid() == 0 else { throw Messages.storeNotMounted(image: checkout.display(image.path)) }
        try mount()
    }

    /// Mounts the image over `.sandbox/`; one process at a time, and a no-op when another mounted it meanwhile.
    package func mount() throws(SandboxError) {
        let fd = open(image.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if isMountPoint(directory) { return }
            throw FileSystem.error(errno, directory, doing: "open the data store in")
        }
        defer { close(fd) }
        flock(fd, LOCK_EX)
        if isMountPoint(directory) { return }
        // Anything beside the image was copied into the store by a `store create` killed after its commit point.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [] where name != Self.imageName {
            try FileSystem.remove(directory.appendingPathComponent(name))
        }
        let result = Self.runSync("/usr/bin/mount", ["-o", Self.mountOptions, image.path, directory.path])
        guard result.status == 0 else {
            throw SandboxError(.storeFailed, "cannot mount the data store \(checkout.display(image.path)) on .sandbox/",
                               fix: "check `dmesg` and that loop devices are available (`losetup -f`); the data is in the image, untouched",
                               detail: result.output)
        }
    }

    /// `discard`, so space freed in the store (destroy, a deleted snapshot) is handed back to the host's disk.
    static let mountOptions = "loop,noatime,discard"

    /// What `store status` and `doctor` show.
    package struct Status: Sendable, Codable, Equatable {
        package var state: State
        package var reflinks: Bool
        package var filesystem: String
        package var sizeBytes: Int64?
        package var usedBytes: Int64?
    }

    package func status() -> Status {
        let state = self.state
        var status = Status(state: state, reflinks: false, filesystem: Self.filesystemName(directory))
        guard state != .unmounted else { return status }
        status.reflinks = FileSystem.exists(directory) && Self.supportsReflinks(directory)
        var fs = statvfs()
        if state == .mounted, statvfs(directory.path, &fs) == 0 {
            status.sizeBytes = Int64(fs.f_blocks) * Int64(fs.f_frsize)
            status.usedBytes = Int64(fs.f_blocks - fs.f_bfree) * Int64(fs.f_frsize)
        }
        return status
    }

    /// Whether `folder`'s filesystem clones files (FICLONE): tried on two small files, then removed.
    package static func supportsReflinks(_ folder: URL) -> Bool {
        let base = folder.appendingPathComponent(".reflink-test-\(getpid())")
        let source = open(base.path + "-a", O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0o600)
        guard source >= 0 else { return false }
        defer { close(source); unlink(base.path + "-a") }
        var block = [UInt8](repeating: 0x5a, count: 4096)
        guard write(source, &block, block.count) == block.count, fsync(source) == 0 else { return false }
        let target = open(base.path + "-b", O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0o600)
        guard target >= 0 else { return false }
        defer { close(target); unlink(base.path + "-b") }
        return ioctl(target, UInt(0x4004_9409), source) == 0 // FICLONE
    }

    static func filesystemName(_ url: URL) -> String {
        // struct statfs begins with f_type (a long); Glibc's module map leaves statfs out, so it is looked up.
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "statfs") else { return "unknown" }
        let statfs = unsafeBitCast(symbol, to: (@convention(c) (UnsafePointer<CChar>, UnsafeMutableRawPointer) -> Int32).self)
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 512, alignment: 8)
        defer { buffer.deallocate() }
        guard statfs(url.path, buffer) == 0 else { return "unknown" }
        let type = UInt32(truncatingIfNeeded: buffer.load(as: Int.self))
        switch type {
        case 0xEF53: return "ext4"
        case 0x5846_5342: return "xfs"
        case 0x9123_683E: return "btrfs"
        case 0x0102_1994: return "tmpfs"
        case 0x794C_7630: return "overlayfs"
        case 0x2FC1_2FC1: return "zfs"
        default: return "0x" + String(type, radix: 16)
        }
    }

    /// A different device than its parent's: something is mounted there.
    func isMountPoint(_ url: URL) -> Bool {
        var here = stat(), parent = stat()
        guard stat(url.path, &here) == 0, stat(url.deletingLastPathComponent().path, &parent) == 0 else { return false }
        return here.st_dev != parent.st_dev
    }

    /// A quick host command (mount, umount) run to its end; for the synchronous path every command starts from.
    static func runSync(_ path: String, _ arguments: [String]) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do { try process.run() } catch { return (127, "cannot run \(path): \(error)") }
        try? pipe.fileHandleForWriting.close()
        let data = (try? pipe.fileHandleForReading.readToEnd()) ?? Data()
        try? pipe.fileHandleForReading.close()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

extension DataStore {
    package struct Record: Codable, Sendable {
        package var created: Date
        package var sizeBytes: Int64
    }

    /// Makes the store and moves `.sandbox/` into it. Needs root (mkfs, a loop mount) and no running instance
    /// (their containers hold the folders being moved). Crash-safe: until the finished image is renamed into
    /// place nothing of `.sandbox/` changed, and a run killed before that is cleaned up by the next one.
    package func create(sizeBytes: Int64?, line: @escaping @Sendable (String) -> Void) async throws(SandboxError) {
        switch state {
        case .mounted: line("the data store is already mounted on .sandbox/"); return
        case .unmounted: try mount(); line("the data store was already there; mounted it on .sandbox/"); return
        case .foreignMount:
            throw SandboxError(.storeFailed, ".sandbox/ is already a mount of another filesystem (\(Self.filesystemName(directory)))",
                               fix: "unmount it first if a data store should replace it; if it has reflinks (XFS, btrfs), copies already cost nothing")
        case .none: break
        }
        guard geteuid() == 0 else {
            throw SandboxError(.storeFailed, "making a data store needs root (it formats an image and loop-mounts it)",
                               fix: "run `sudo sandbox store create`")
        }
        guard let mkfs = ["/usr/sbin/mkfs.xfs", "/sbin/mkfs.xfs"].first(where: FileManager.default.isExecutableFile) else {
            throw SandboxError(.storeFailed, "mkfs.xfs is not installed", fix: "install it: sudo apt-get install xfsprogs")
        }
        try FileSystem.ensureDirectory(directory)
        if Self.supportsReflinks(directory) {
            line(".sandbox/ is on \(Self.filesystemName(directory)) with reflinks already: copies cost nothing, no store needed")
            return
        }
        try cleanPartial()
        let free = Self.freeBytes(directory)
        let current = Self.apparentSize(directory)
        let size = sizeBytes ?? min(64 << 30, max(4 << 30, free * 9 / 10))
        if size < current * 12 / 10 + (1 << 30) {
            throw SandboxError(.storeFailed, "a store of \(DiskUsage.format(size)) is too small for what .sandbox/ holds (\(DiskUsage.format(current)))",
                               fix: "pass a larger --size, like --size \((current * 2 + (4 << 30)) >> 30)G")
        }
        let owner = Self.owner(of: checkout.root)
        do {
            line("formatting a \(DiskUsage.format(size)) XFS image with reflinks (sparse: it takes only what is written)")
            try Self.allocate(partialImage, size: size)
            try await Self.check(await HostCommand.run(mkfs, ["-q", "-m", "reflink=1", "-L", "sandbox", partialImage.path]), "format the data store")
            try FileSystem.ensureDirectory(partialMount)
            try await Self.check(await HostCommand.run("/usr/bin/mount", ["-o", Self.mountOptions, partialImage.path, partialMount.path]),
                                 "mount the new data store")
            let entries = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
                .filter { ![Self.imageName + ".partial", partialMount.lastPathComponent].contains($0) }.sorted()
            if !entries.isEmpty { line("copying what .sandbox/ holds into the store (\(DiskUsage.format(current)))") }
            for name in entries {
                try Self.check(await HostCommand.run("/bin/cp", ["-a", directory.appendingPathComponent(name).path, partialMount.path + "/"]),
                               "copy \(name) into the new data store")
            }
            try FileSystem.writeJSON(Record(created: Date(), sizeBytes: size), to: partialMount.appendingPathComponent(record.lastPathComponent), mode: 0o644)
            _ = chown(partialMount.path, owner.uid, owner.gid)
            _ = chown(partialImage.path, owner.uid, owner.gid)
            FileSystem.syncFilesystem(partialMount)
            try await Self.check(await HostCommand.run("/usr/bin/umount", [partialMount.path]), "unmount the new data store")
            try FileSystem.remove(partialMount)
            // The commit point: from here on the store holds everything, and `mount` finishes the job.
            try FileSystem.move(partialImage, to: image)
        } catch {
            try? cleanPartial()
            throw error
        }
        FileSystem.syncFilesystem(directory)
        try mount()
        line("the data store is mounted on .sandbox/: fresh instances, resets and snapshots are reflink clones now")
    }

    /// What a killed `create` left before its commit point: the half-made image and its temporary mount.
    func cleanPartial() throws(SandboxError) {
        if isMountPoint(partialMount) { _ = Self.runSync("/usr/bin/umount", [partialMount.path]) }
        if FileSystem.exists(partialMount) { try FileSystem.remove(partialMount) }
        try FileSystem.remove(partialImage)
    }

    static func check(_ result: HostCommand.Result, _ doing: String) throws(SandboxError) {
        guard result.status != 0 else { return }
        throw SandboxError(.storeFailed, "cannot \(doing)",
                           fix: "check `dmesg`, that loop devices are available (`losetup -f`) and the disk has room; "
                               + "nothing in .sandbox/ was changed",
                           detail: result.tail)
    }

    static func allocate(_ url: URL, size: Int64) throws(SandboxError) {
        let fd = open(url.path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        if fd < 0 { throw FileSystem.error(errno, url.deletingLastPathComponent(), doing: "create the data store image in") }
        defer { close(fd) }
        if ftruncate(fd, off_t(size)) != 0 { throw FileSystem.error(errno, url.deletingLastPathComponent(), doing: "size the data store image in") }
    }

    static func freeBytes(_ url: URL) -> Int64 {
        var fs = statvfs()
        guard statvfs(url.path, &fs) == 0 else { return 0 }
        return Int64(fs.f_bavail) * Int64(fs.f_frsize)
    }

    static func apparentSize(_ url: URL) -> Int64 { DiskUsage.of(url).bytes }

    static func owner(of url: URL) -> (uid: uid_t, gid: gid_t) {
        var st = stat()
        guard stat(url.path, &st) == 0 else { return (getuid(), getgid()) }
        return (st.st_uid, st.st_gid)
    }
}
