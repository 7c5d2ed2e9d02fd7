import Foundation
import Testing
@testable import SandboxHost
@testable import SandboxObserve

/// What the observer reads from `docker ps` and `docker image inspect` output, and the one port policy.
@Suite struct ObserverParsingTests {
    static let psLine = #"{"ID":"abc123","Names":"sbx-demo-1-dev-pg","State":"running","#
        + #""Labels":"dev.sandbox.service=pg,dev.sandbox.config-hash=h1,dev.sandbox.image-hash=i1,other=a=b","#
        + #""Ports":"127.0.0.1:20001->5432/tcp"}"#

    @Test func containersAreKeyedByTheirServiceLabel() {
        let text = Self.psLine + "\n" + #"{"ID":"def","Names":"x","State":"exited","Labels":"dev.sandbox.service=maria"}"# + "\nnot json\n"
            + #"{"ID":"ghi","Names":"y","State":"running","Labels":"unrelated=1"}"#
        let containers = Observer.parseContainers(text)
        #expect(containers == [
            "pg": ObservedContainer(id: "abc123", name: "sbx-demo-1-dev-pg", service: "pg", running: true, state: "running",
                                    configHash: "h1", imageHash: "i1", ports: "127.0.0.1:20001->5432/tcp"),
            "maria": ObservedContainer(id: "def", name: "x", service: "maria", running: false, state: "exited", configHash: nil, imageHash: nil),
        ])
    }

    @Test func labelsSplitAtTheFirstEqualsSign() {
        #expect(Observer.parseLabels("a=1,b=x=y,,c=") == ["a": "1", "b": "x=y", "c": ""])
    }

    @Test func imagesAreMatchedByTagOrByTheirRegistryQualifiedName() {
        let text = #"{"Id":"sha256:1","RepoTags":["acme/pg:demo"],"Config":{"Labels":{"dev.sandbox.image-hash":"h"}}}"# + "\n"
            + #"{"Id":"sha256:2","RepoTags":["docker.io/library/debian:bookworm"],"Config":{"Labels":null}}"#
        let images = Observer.parseImages(text, wanted: ["acme/pg:demo", "debian:bookworm", "acme/maria:demo"])
        #expect(images.count == 2)
        #expect(images["acme/pg:demo"] == .some("h"))
        #expect(images["debian:bookworm"] == .some(nil))
        #expect(images["acme/maria:demo"] == nil)
    }

    @Test func publishedAddressAndPort() {
        #expect(ObservedContainer.published("127.0.0.1:20001->5432/tcp")! == ("127.0.0.1", 20001))
        #expect(ObservedContainer.published("[::1]:8080->80/tcp")! == ("[::1]", 8080))
        #expect(ObservedContainer.published("5432/tcp") == nil)
        #expect(Observer.hostPort("") == nil)
    }

    @Test func portPolicy() throws {
        let fixture = try PlannerFixture()
        let db = fixture.db
        let listener = try TCPListener()
        let running = ObservedContainer(id: "1", name: "n", service: "db", running: true, state: "running", configHash: nil, imageHash: nil,
                                        ports: "127.0.0.1:\(listener.port)->5432/tcp")
        // A running container of ours keeps its port, though the port is (by it) in use.
        #expect(try Observer.port(for: db, container: running, previous: listener.port, seed: "s", avoid: [])?.get() == PortChoice(port: listener.port))
        // Without it, a taken previous port moves, and says why.
        let moved = try #require(try Observer.port(for: db, container: nil, previous: listener.port, seed: "s", avoid: [])?.get())
        #expect(moved.port != listener.port && moved.change == "port \(listener.port) is taken by another program; moving to \(moved.port)")
        // A free previous port stays.
        #expect(try Observer.port(for: db, container: nil, previous: moved.port, seed: "s", avoid: [])?.get() == PortChoice(port: moved.port))
        // A pinned port that something else holds is a conflict, never a move.
        var pinned = db
        pinned.hostPort = listener.port
        guard case let .failure(conflict)? = Observer.port(for: pinned, container: nil, previous: nil, seed: "s", avoid: []) else {
            Issue.record("a taken pinned port was not a conflict")
            return
        }
        #expect(conflict.port == listener.port)
    }
}

/// A TCP listener on 127.0.0.1 at a port the kernel picks, bound as the engine's proxy binds (SO_REUSEADDR).
final class TCPListener {
    let fd: Int32
    let port: Int
    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard ok == 0, listen(fd, 4) == 0 else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        port = Int(UInt16(bigEndian: addr.sin_port))
    }
    deinit { close(fd) }
}
