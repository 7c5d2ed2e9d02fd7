import Foundation
import Testing
@testable import SandboxServer
import SandboxBase
import SandboxPlan
import SandboxHost

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

    /// The one table, code by code (docs/errors.md shows the same column; ErrorDocsTests holds them equal).
    @Test(arguments: SandboxError.Code.allCases) func everyErrorCodeHasItsHTTPStatus(code: SandboxError.Code) {
        let expected: [SandboxError.Code: Int] = [
            .badRequest: 400, .invalidName: 400, .ambiguousSandbox: 400, .unauthorized: 401, .crossOrigin: 403,
            .notFound: 404, .unknownSandbox: 404, .unknownService: 404, .noSuchSnapshot: 404, .noRecipes: 404, .noSuchLease: 404, .noLeases: 409, .leaseFailed: 502,
            .notRunning: 409, .instanceBusy: 409, .wrongSandbox: 409, .dataDirMismatch: 409, .dataDirDamaged: 409, .stateDamaged: 409, .portTaken: 409,
            .otherEngine: 409, .invalidRecipes: 422, .buildFailed: 422, .initFailed: 422, .stepFailed: 422, .notReady: 422,
            .upgradeFailed: 422, .io: 500, .dataDirNotWritable: 500, .storeFailed: 500, .dockerFailed: 502, .baseImageUnavailable: 502,
            .shuttingDown: 503, .serverBusy: 503, .engineUnreachable: 503, .dockerMissing: 503, .storeNotMounted: 503, .notBuilt: 503, .tooManyLeases: 429, .diskFull: 507,
        ]
        #expect(code.httpStatus == expected[code], "\(code.rawValue)")
        let response = APIResponse.error(SandboxError(code, "m", fix: "f"))
        #expect(response.status.code == code.httpStatus)
    }

    /// Every action a plan can hold is worded on the page and named in docs/json.md; the page words no action that is not.
    @Test func thePagesStepMapAndTheJSONDocsNameEveryAction() throws {
        let map = try #require(PageScript.text.firstMatch(of: /const STEP = \{([^}]*)\}/)?.1)
        let worded = Set(map.matches(of: /(\w+): "/).map { String($0.1) })
        let verbs = Set(Plan.Action.Verb.allCases.map(\.rawValue))
        #expect(worded == verbs, "missing: \(verbs.subtracting(worded).sorted()), extra: \(worded.subtracting(verbs).sorted())")
        let json = try String(contentsOf: ErrorDocsTests.root.appendingPathComponent("docs/json.md"), encoding: .utf8)
        let row = try #require(json.split(separator: "\n").first { $0.hasPrefix("| `action` |") })
        let documented = Set(row.matches(of: /`(\w+)/).map { String($0.1) }).subtracting(["action"])
        #expect(documented == verbs, "missing: \(verbs.subtracting(documented).sorted()), extra: \(documented.subtracting(verbs).sorted())")
    }

    @Test func theOpenAPIDocumentListsExactlyTheRoutesTheServerHas() throws {
        let document = try #require(try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.text.utf8)) as? [String: Any])
        #expect(document["openapi"] as? String == "3.0.3")
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        let documented = Set(paths.flatMap { path, methods in methods.keys.map { "\($0.uppercased()) \(path)" } })
        let center = OperationCenter()
        let api = API(checkouts: [], center: center, follower: BranchFollower(checkouts: [], executable: "/bin/false", center: center),
                      previews: PreviewKeeper(checkouts: [], settings: PreviewSettings(), executable: "/bin/false", center: center,
                                              address: ServerAddress("http://127.0.0.1:1")),
                      hookSecret: nil, executable: "/bin/false")
        let served = Set(api.endpoints.map { "\($0.method.rawValue) \($0.path)" })
        #expect(documented == served)
        // Every $ref points at something the document defines.
        let refs = OpenAPIDocument.text.matches(of: /"\$ref": "#\/components\/(\w+)\/(\w+)"/).map { ($0.1, $0.2) }
        let components = try #require(document["components"] as? [String: [String: Any]])
        for (kind, name) in refs { #expect(components[String(kind)]?[String(name)] != nil, "\(kind)/\(name)") }
        #expect(refs.count > 40)
    }

    @Test func pushEventsAreVerifiedAgainstTheSecretAndReadFromEachForgesPayload() {
        let body = Data(#"{"ref":"refs/heads/main","after":"0123456789abcdef0123456789abcdef01234567"}"#.utf8)
        // HMAC-SHA256("s3cret", body), computed independently: printf '%s' "$body" | openssl dgst -sha256 -hmac s3cret
        let mac = "be63fdb3560b1343e157f107f0d924ae708f71e798057477dde2e2305ce1f881"
        #expect(GitHook.verify(body: body, secret: "s3cret", hubSignature: "sha256=" + mac, giteaSignature: nil, gitlabToken: nil))
        #expect(GitHook.verify(body: body, secret: "s3cret", hubSignature: nil, giteaSignature: mac, gitlabToken: nil))
        #expect(GitHook.verify(body: body, secret: "s3cret", hubSignature: "sha256=" + mac.uppercased(), giteaSignature: nil, gitlabToken: nil))
        #expect(GitHook.verify(body: body, secret: "s3cret", hubSignature: nil, giteaSignature: nil, gitlabToken: "s3cret"))
        #expect(!GitHook.verify(body: body, secret: "s3cret", hubSignature: "sha256=" + String(repeating: "0", count: 64),
                                giteaSignature: nil, gitlabToken: nil))
        #expect(!GitHook.verify(body: body + Data(" ".utf8), secret: "s3cret", hubSignature: "sha256=" + mac, giteaSignature: nil, gitlabToken: nil))
        #expect(!GitHook.verify(body: body, secret: "s3cret", hubSignature: nil, giteaSignature: nil, gitlabToken: "wrong"))
        #expect(!GitHook.verify(body: body, secret: "", hubSignature: nil, giteaSignature: nil, gitlabToken: ""))
        #expect(!GitHook.verify(body: body, secret: "s3cret", hubSignature: "sha256=zz", giteaSignature: "nothex", gitlabToken: nil))
        #expect(GitHook.push(from: body) == .init(branch: "main", commit: "0123456789abcdef0123456789abcdef01234567"))
        #expect(GitHook.push(from: Data(#"{"ref":"refs/heads/feature/x","checkout_sha":"abcdef1234567"}"#.utf8))?.branch == "feature/x")
        #expect(GitHook.push(from: Data(#"{"ref":"refs/tags/v1","after":"abcdef1234567"}"#.utf8)) == nil)
        let gone = GitHook.push(from: Data(#"{"ref":"refs/heads/gone","after":"0000000000000000000000000000000000000000"}"#.utf8))
        #expect(gone?.branch == "gone" && gone?.deleted == true)
        #expect(GitHook.push(from: Data(#"{"ref":"refs/heads/x","after":"abcdef1234567","deleted":true}"#.utf8))?.deleted == true)
        #expect(GitHook.push(from: Data(#"{"ref":"refs/heads/","after":"abcdef1234567"}"#.utf8)) == nil)
        #expect(GitHook.push(from: Data("not json".utf8)) == nil)
    }

    @Test func pollIntervalsReadLikePeopleWriteThem() throws {
        #expect(try ServeConfiguration.parseInterval("60s") == .seconds(60))
        #expect(try ServeConfiguration.parseInterval("5m") == .seconds(300))
        #expect(try ServeConfiguration.parseInterval("1h") == .seconds(3600))
        #expect(try ServeConfiguration.parseInterval("30") == .seconds(30))
        for bad in ["1s", "0", "m", "2d", "-5m", "25h"] {
            #expect(throws: SandboxError.self, "\(bad)") { try ServeConfiguration.parseInterval(bad) }
        }
    }

    @Test func routerPathsUseHummingbirdsParameterSyntax() {
        let e = API.Endpoint(method: .get, path: "/api/v1/instances/{instance}/logs/{service}") { _, _ in .init(status: .ok) }
        #expect(e.routerPath == "/api/v1/instances/:instance/logs/:service")
    }

    @Test func theGateAdmitsUpToItsLimitAndThenRefuses() {
        let gate = Gate(limit: 2)
        #expect(gate.enter() && gate.enter())
        #expect(!gate.enter(), "the third is refused while two are in")
        gate.leave()
        #expect(gate.enter())
    }

    @Test func aDeliveryIsTakenOnceAndABodyNamesOneWithoutAnId() async {
        let deliveries = GitHook.Deliveries()
        let once = await deliveries.first("abc"), twice = await deliveries.first("abc")
        #expect(once && !twice)
        let body = Data(#"{"ref":"refs/heads/main","after":"1234567"}"#.utf8)
        #expect(GitHook.digest(body) == GitHook.digest(body) && GitHook.digest(body) != GitHook.digest(Data("{}".utf8)))
        let byBody = await deliveries.first(GitHook.digest(body)), again = await deliveries.first(GitHook.digest(body))
        #expect(byBody && !again)
        // The oldest are forgotten past the limit, so memory stays bounded.
        for n in 0..<4096 { _ = await deliveries.first("d\(n)") }
        let forgotten = await deliveries.first("abc")
        #expect(forgotten, "forgotten after 4096 newer ones")
    }

    @Test func busyAndStoppingAnswer503WithRetryAfter() {
        for code in [SandboxError.Code.serverBusy, .shuttingDown] {
            let response = APIResponse.error(SandboxError(code, "x", fix: "y"))
            #expect(response.status.code == 503 && response.headers[.retryAfter] == "1")
        }
    }

    @Test func aBranchGetsAStableUniqueInstanceNameTheToolAccepts() throws {
        #expect(PreviewNames.instance(for: "fix-typo") == "fix-typo")
        let names = ["feature/login", "feature-login", "Feature/Login", "feature/login/", "../../etc", "ü/ß", "-x", "golden",
                     String(repeating: "very-long-branch-", count: 6), "a b"]
        var seen: Set<String> = []
        for branch in names {
            let name = PreviewNames.instance(for: branch)
            try InstanceLayout.validate(instance: name)
            #expect(name == PreviewNames.instance(for: branch), "stable")
            #expect(seen.insert(name).inserted, "\(branch) → \(name) is taken")
        }
        #expect(PreviewNames.instance(for: "feature/login").hasPrefix("feature-login-"))
        #expect(PreviewNames.id(checkout: "app", instance: "x") == "app~x")
        #expect(PreviewNames.folder(of: URL(fileURLWithPath: "/src/app")).path == "/src/app.previews")
    }

    @Test func patternsMatchBranchesForEveryCheckoutOrOneAndSizesParse() throws {
        let settings = PreviewSettings(patterns: ["feature/*", "shop:release-*"], ttl: 40)
        #expect(settings.matches("feature/a", checkout: "app") && settings.matches("feature/a/b", checkout: "shop"))
        #expect(!settings.matches("main", checkout: "app") && !settings.matches("release-1", checkout: "app"))
        #expect(settings.matches("release-1", checkout: "shop"))
        #expect(settings.warnBefore == 10 && PreviewSettings(ttl: 86_400).warnBefore == 3600)
        #expect(!PreviewSettings().isEnabled)
        #expect(try PreviewSettings.parseSize("2G") == 2 << 30 && PreviewSettings.parseSize("512m") == 512 << 20 && PreviewSettings.parseSize("10") == 10)
        #expect(throws: SandboxError.self) { try PreviewSettings.parseSize("lots") }
        for bad in ["", "a:b:c", "feature /*", "x:"] { #expect(throws: SandboxError.self) { try PreviewSettings.validate(patterns: [bad]) } }
        try PreviewSettings.validate(patterns: ["feature/*", "app:*"])
    }
}

