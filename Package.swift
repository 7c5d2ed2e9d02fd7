// swift-tools-version: 6.2
import PackageDescription

let yams: Target.Dependency = .product(name: "Yams", package: "Yams")
let crypto: Target.Dependency = .product(name: "Crypto", package: "swift-crypto")
/// The core hashes with swift-crypto in the whole build, with SandboxBase's PlainSHA256 in the quick one (see `traits`).
let coreCrypto: Target.Dependency = .product(name: "Crypto", package: "swift-crypto", condition: .when(traits: ["Server"]))
let subprocess: Target.Dependency = .product(name: "Subprocess", package: "swift-subprocess")

/// SandboxKit's layers in order (docs/architecture.md): the folder under Sources/SandboxKit, and the layers it imports.
let layers: [(name: String, folder: String, uses: [String], products: [Target.Dependency])] = [
    ("SandboxBase", "Base", [], []),
    ("SandboxRecipes", "Recipes", ["SandboxBase"], [yams, coreCrypto]),
    ("SandboxEngine", "Engine", ["SandboxBase", "SandboxRecipes"], [subprocess]),
    ("SandboxHost", "Host", ["SandboxBase", "SandboxRecipes", "SandboxEngine"], []),
    ("SandboxObserve", "Observe", ["SandboxBase", "SandboxRecipes", "SandboxEngine", "SandboxHost"], []),
    ("SandboxPlan", "Plan", ["SandboxBase", "SandboxRecipes", "SandboxEngine", "SandboxHost", "SandboxObserve"], []),
    ("SandboxOutput", "Output", ["SandboxBase", "SandboxPlan"], []),
    ("SandboxApply", "Apply", ["SandboxBase", "SandboxRecipes", "SandboxEngine", "SandboxHost", "SandboxObserve", "SandboxPlan", "SandboxOutput"], []),
    ("SandboxNotify", "Notify", ["SandboxBase", "SandboxRecipes", "SandboxHost"], [yams, coreCrypto]),
    ("SandboxOperations", "Operations",
     ["SandboxBase", "SandboxRecipes", "SandboxEngine", "SandboxHost", "SandboxObserve", "SandboxPlan", "SandboxOutput", "SandboxApply", "SandboxNotify"], []),
    // The core every front door calls keeps the name SandboxKit.
    ("SandboxKit", "Core",
     ["SandboxBase", "SandboxRecipes", "SandboxEngine", "SandboxHost", "SandboxObserve", "SandboxPlan", "SandboxOutput", "SandboxNotify", "SandboxOperations"], []),
]
/// What a front door may import: the core and the types it speaks; never Apply (only the core carries out a plan).
let frontDoor: [Target.Dependency] = layers.map(\.name).filter { $0 != "SandboxApply" }.map { .byName(name: $0) }

let package = Package(
    name: "sandbox",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "sandbox", targets: ["sandbox"]),
        .library(name: "SandboxKit", targets: ["SandboxKit"]),
    ],
    // `Server` (on by default): `sandbox serve`, TLS and the notification client, on NIO and two vendored BoringSSLs.
    // Scripts/setup builds the first `sandbox` without it (`--disable-default-traits`: 220 compile steps, not 1,844), brings
    // the demo up, and builds the whole one in the background (docs/architecture.md, "Two builds of one command").
    traits: [
        .trait(name: "Server", description: "sandbox serve (HTTP API, page, TLS, previews) and the notification client"),
        .default(enabledTraits: ["Server"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        .executableTarget(
            name: "sandbox",
            dependencies: frontDoor + [
                .target(name: "SandboxServer", condition: .when(traits: ["Server"])),
                .target(name: "SandboxWebhook", condition: .when(traits: ["Server"])),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log", condition: .when(traits: ["Server"])),
            ]
        ),
        // `sandbox serve`: the HTTP API and the page. Kept apart so SandboxKit stays free of NIO.
        .target(
            name: "SandboxServer",
            dependencies: frontDoor + [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The deliverer's HTTP client (outgoing notifications), on NIO like `serve`, so SandboxKit stays free of NIO.
        .target(
            name: "SandboxWebhook",
            dependencies: [
                "SandboxNotify",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // SandboxKit's layers, one target each (docs/architecture.md): a layer imports only the layers before it,
        // and the compiler refuses a cycle. Types crossing layers are `package`, never `public`.
    ] + layers.map { layer in
        .target(name: layer.name, dependencies: layer.uses.map { .byName(name: $0) } + layer.products, path: "Sources/SandboxKit/\(layer.folder)",
                // SandboxBase holds PlainSHA256, which hashes whole build contexts in the quick (debug) build: optimised
                // even there (4 MiB/s unoptimised; SandboxBase is small, and nothing in it needs a debugger's view).
                swiftSettings: layer.name == "SandboxBase" ? [.unsafeFlags(["-O"], .when(configuration: .debug))] : [])
    } + [
        .testTarget(name: "SandboxKitTests", dependencies: frontDoor + ["SandboxApply", "SandboxServer", crypto]),
        .testTarget(name: "IntegrationTests", dependencies: frontDoor + [crypto]),
    ]
)
