import Foundation
#if canImport(Glibc)
import Glibc
import SandboxRecipes
#endif

/// Host port probing: a port is free when we can bind it ourselves right now.
package enum Ports {
    package static func isFree(_ port: Int, address: String = "127.0.0.1") -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        // As the engine's proxy binds: connections of the port's last owner in TIME_WAIT do not make it busy.
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, address, &addr.sin_addr)
        let result = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return result == 0
    }

    /// Waits, up to `timeout`, until the engine has released a port a removed container published
    /// (it does so shortly after `docker rm` returns): a condition with a deadline.
    package static func waitUntilFree(_ port: Int, address: String, timeout: Duration = .seconds(5)) async -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while !isFree(port, address: address) {
            if clock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return true
    }

    /// A free port, trying a stable preferred one first (derived from `seed`), then the ones after it.
    /// `avoid` holds ports other services of the same run just took.
    package static func pick(seed: String, address: String = "127.0.0.1", avoid: Set<Int> = []) -> Int? {
        let range = 20000..<40000
        let start = Int(ContentHash.of(data: Data(seed.utf8)).prefix(8), radix: 16).map { $0 % range.count } ?? 0
        for offset in 0..<2000 {
            let port = range.lowerBound + (start + offset * 7) % range.count
            if !avoid.contains(port) && isFree(port, address: address) { return port }
        }
        return nil
    }
}
