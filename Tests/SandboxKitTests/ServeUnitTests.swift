import Foundation
import Testing
import SandboxKit
@testable import SandboxServer

/// The pure parts of `sandbox serve`: addresses, checkout ids, tokens, the error-to-status table, and the OpenAPI
/// document against the router's table (no server, no Docker).
@Suite struct ServeUnitTests {
    @Test func listenAddressesParseOrNameTheFix() throws {
        #expect(try ServeConfiguration.parseListen("127.0.0.1:7420") == ("127.0.0.1", 7420))
        #expect(try ServeConfiguration.parseListen("[::1]:8080") == ("::1", 8080))
        #expect(try ServeConfiguration.parseListen(":9000") == ("127.0.0.1", 9000))
        #expect(try ServeConfiguration.parseListen("0.0.0.0:0") == ("0.0.0.0", 0))
        for bad in ["7420", "localhost", "1.2.3.4:99999", "::1:80", "[::1]80", "host:port"] {
            #expect(throws: SandboxError.self, "\(bad)") { try ServeConfiguration.parseListen(bad) }
        }
        #expect(ServeConfiguration.isLoopback("127.0.0.1") && ServeConfiguration.isLoopback("::1") && ServeConfiguration.isLoopback("localhost"))
        #expect(!ServeConfiguration.isLoopback("0.0.0.0") && !ServeConfiguration.isLoopback("192.168.1.4") && !ServeConfiguration.isLoopback("::"))
    }

    @Test func originsAreWhatABrowserSends() {
        let config = ServeConfiguration(host: "::1", port: 7420, checkouts: [], token: "", tls: nil, executable: "")
        #expect(config.origin == "http://[::1]:7420")
        let any = ServeConfiguration(host: "0.0.0.0", port: 443, checkouts: [], token: "", tls: .init(certificate: "c", key: "k"), executable: "")
        #expect(any.origin == "https://127.0.0.1:443")
    }

    @Test func checkoutIdsAreUniqueAndSafeInAURL() {
        let ids = ServedCheckout.identify([URL(fileURLWithPath: "/src/App"), URL(fileURLWithPath: "/other/app"),
                                           URL(fileURLWithPath: "/x/my shop"), URL(fileURLWithPath: "/y/app")]).map(\.id)
        #expect(ids == ["app", "app-2", "my-shop", "app-3"])
    }

    @Test func tokensCompareWholeAndAreMadeOnceWithMode0600() throws {
        #expect(AccessToken.matches("abc", "abc"))
        #expect(!AccessToken.matches("abd", "abc") && !AccessToken.matches("", "abc") && !AccessToken.matches(nil, "abc"))
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("serve-token-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let first = try AccessToken.load(environment: [:], stateFolder: folder)
        #expect(first.token.count == 64)
        let mode = try FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent("serve-token").path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try AccessToken.load(environment: [:], stateFolder: folder).token == first.token)
        #expect(try AccessToken.load(environment: ["SANDBOX_TOKEN": "0123456789abcdef0123"], stateFolder: folder).token == "0123456789abcdef0123")
        #expect(throws: SandboxError.self) { try AccessToken.load(environment: ["SANDBOX_TOKEN": "short"], stateFolder: folder) }
    }

    @Test func everyErrorCodeHasAnHTTPStatusAndOnlyTrueServerFaultsAre5xx() {
        for code in SandboxError.Code.allCases {
            let status = APIResponse.status(for: code.rawValue).code
            #expect((400...599).contains(status), "\(code)")
        }
        #expect(APIResponse.status(for: "unauthorized").code == 401)
        #expect(APIResponse.status(for: "cross-origin").code == 403)
        #expect(APIResponse.status(for: "invalid-name").code == 400)
        #expect(APIResponse.status(for: "no-such-snapshot").code == 404)
        #expect(APIResponse.status(for: "instance-busy").code == 409)
        #expect(APIResponse.status(for: "shutting-down").code == 503)
    }

    @Test func theOpenAPIDocumentListsExactlyTheRoutesTheServerHas() throws {
        let document = try #require(try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.text.utf8)) as? [String: Any])
        #expect(document["openapi"] as? String == "3.0.3")
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        let documented = Set(paths.flatMap { path, methods in methods.keys.map { "\($0.uppercased()) \(path)" } })
        let api = API(checkouts: [], runner: CommandRunner(executable: "/bin/false"), center: OperationCenter(runner: CommandRunner(executable: "/bin/false")))
        let served = Set(api.endpoints.map { "\($0.method.rawValue) \($0.path)" })
        #expect(documented == served)
        // Every $ref points at something the document defines.
        let refs = OpenAPIDocument.text.matches(of: /"\$ref": "#\/components\/(\w+)\/(\w+)"/).map { ($0.1, $0.2) }
        let components = try #require(document["components"] as? [String: [String: Any]])
        for (kind, name) in refs { #expect(components[String(kind)]?[String(name)] != nil, "\(kind)/\(name)") }
        #expect(refs.count > 40)
    }

    @Test func routerPathsUseHummingbirdsParameterSyntax() {
        let e = API.Endpoint(method: .get, path: "/api/v1/instances/{instance}/logs/{service}") { _, _ in .init(status: .ok) }
        #expect(e.routerPath == "/api/v1/instances/:instance/logs/:service")
    }
}
