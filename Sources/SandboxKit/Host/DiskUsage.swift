import Foundation
import SandboxBase

/// How much disk a folder tree really takes, and how much of that it alone holds.
///
/// On a filesystem with reflinks a copy shares its blocks with the original until either is written, so the
/// apparent size says little. Each file's extents are asked of the filesystem (FIEMAP); an extent flagged
/// shared also belongs to another file (the golden copy, the instance, another snapshot), so deleting this
/// tree would not free it. Where FIEMAP is not offered (tmpfs), every allocated block counts as this tree's own.
package struct DiskUsage: Sendable, Equatable, Codable {
    /// Bytes allocated to the tree's files.
    package var bytes: Int64
    /// Bytes that deleting the tree would free: its allocated bytes less those shared with other files.
    package var exclusiveBytes: Int64

    package init(bytes: Int64, exclusiveBytes: Int64) {
        self.bytes = bytes
        self.exclusiveBytes = exclusiveBytes
    }

    package static func of(_ url: URL) -> DiskUsage {
        var total = DiskUsage(bytes: 0, exclusiveBytes: 0)
        guard let walker = FileManager.default.enumerator(atPath: url.path) else { return total }
        for case let relative as String in walker {
            let path = url.path + "/" + relative
            var st = stat()
            guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { continue }
            let allocated = Int64(st.st_blocks) * 512
            total.bytes += allocated
            total.exclusiveBytes += max(0, allocated - shared(path, limit: allocated))
        }
        return total
    }

    /// Bytes of the file's extents the filesystem reports as shared; 0 where it cannot say.
    static func shared(_ path: String, limit: Int64) -> Int64 {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        // struct fiemap (32 bytes) followed by fiemap_extent[count] (56 bytes each); see linux/fiemap.h.
        let count = 128, header = 32, extentSize = 56
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: header + count * extentSize, alignment: 8)
        defer { buffer.deallocate() }
        var start: UInt64 = 0, shared: Int64 = 0
        while true {
            buffer.initializeMemory(as: UInt8.self, repeating: 0, count: header + count * extentSize)
            buffer.storeBytes(of: start, toByteOffset: 0, as: UInt64.self)          // fm_start
            buffer.storeBytes(of: UInt64.max, toByteOffset: 8, as: UInt64.self)     // fm_length
            buffer.storeBytes(of: UInt32(1), toByteOffset: 16, as: UInt32.self)     // fm_flags: FIEMAP_FLAG_SYNC
            buffer.storeBytes(of: UInt32(count), toByteOffset: 24, as: UInt32.self) // fm_extent_count
            guard ioctl(fd, fsIocFiemap, buffer) == 0 else { return 0 }
            let mapped = Int(buffer.load(fromByteOffset: 20, as: UInt32.self))
            if mapped == 0 { break }
            var last = false
            for i in 0..<mapped {
                let base = header + i * extentSize
                let logical = buffer.load(fromByteOffset: base, as: UInt64.self)
                let length = buffer.load(fromByteOffset: base + 16, as: UInt64.self)
                let flags = buffer.load(fromByteOffset: base + 40, as: UInt32.self)
                if flags & extentShared != 0 { shared += Int64(length) }
                if flags & extentLast != 0 { last = true }
                start = logical + length
            }
            if last || mapped < count { break }
        }
        return min(shared, limit)
    }

    static let fsIocFiemap = UInt(0xC020_660B)
    static let extentLast: UInt32 = 0x1
    static let extentShared: UInt32 = 0x2000

    /// A size as the docker CLI prints it ("357MB", "1.2GB", "512kB": decimal units); nil when it is not one.
    package static func parse(_ text: String) -> Int64? {
        let units: [(String, Double)] = [("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3), ("KB", 1e3), ("B", 1)]
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        for (suffix, scale) in units where trimmed.hasSuffix(suffix) {
            guard let value = Double(trimmed.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)), value >= 0, value < 1e6 else { return nil }
            return Int64((value * scale).rounded())
        }
        return nil
    }

    /// "1.2 GiB", "35 MiB", "512 KiB": binary units, as `--size 64G` means them.
    package static func format(_ bytes: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes), unit = 0
        while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
        return unit == 0 ? "\(bytes) B" : Formatting.fixed(value, places: value < 10 ? 1 : 0) + " " + units[unit]
    }
}
