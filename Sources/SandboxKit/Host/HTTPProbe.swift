import Foundation

/// Asks a service on this host for one path over HTTP/1.0 and reads the status code: readiness by HTTP
/// (`ready: {http: /health}`). A few lines of socket code rather than URLSession, which would load libcurl into every
/// command; it reads the status line only, so a proxy that accepts the connection while the service does not
/// answer is never taken for ready.
package enum HTTPProbe {
    /// The status code `GET path` answers with on `address:port`, or nil when nothing answers within `timeout`.
    package static func status(address: String, port: Int, path: String, timeout: Duration = .seconds(2)) -> Int? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var tv = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: Int(timeout.components.attoseconds / 1_000_000_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, address, &addr.sin_addr) == 1 else { return nil }
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return nil }
        let request = Array("GET \(path) HTTP/1.0\r\nHost: \(address):\(port)\r\nUser-Agent: sandbox\r\nConnection: close\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == request.count else { return nil }
        var buffer = [UInt8](repeating: 0, count: 64)
        var received = 0
        while received < buffer.count {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + received, $0.count - received, 0) }
            if n <= 0 { break }
            received += n
            if buffer[..<received].contains(UInt8(ascii: "\n")) { break }
        }
        return parseStatus(String(decoding: buffer[..<received], as: UTF8.self))
    }

    /// `HTTP/1.1 200 OK` → 200.
    package static func parseStatus(_ line: String) -> Int? {
        let parts = line.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), let code = Int(parts[1]), (100...599).contains(code) else { return nil }
        return code
    }
}
