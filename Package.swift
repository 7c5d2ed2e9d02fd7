// swift-tools-version: 6.2
import PackageDescription

let package = Package(
    name: "sandbox",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "sandbox", targets: ["sandbox"]),
        .library(name: "SandboxKit", targets: ["SandboxKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        .executableTarget(
            name: "sandbox",
            dependencies: [
                "SandboxKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(
            name: "SandboxKit",
            dependencies: [
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(name: "SandboxKitTests", dependencies: ["SandboxKit"]),
        .testTarget(name: "IntegrationTests", dependencies: ["SandboxKit"]),
    ]
)
