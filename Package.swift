// swift-tools-version: 6.2
import PackageDescription

/// Warnings are errors in every target of ours (STYLE.md).
let strict: [SwiftSetting] = [.unsafeFlags(["-warnings-as-errors"])]

let package = Package(
    name: "Palisade",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "palisade", targets: ["palisade"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0", traits: ["JSON", "YAML"]),
    ],
    targets: [
        // System C libraries (pkg-config + apt). Never vendored.
        .systemLibrary(name: "CLua", pkgConfig: "lua5.4", providers: [.apt(["liblua5.4-dev"])]),
        .systemLibrary(name: "CHiredis", pkgConfig: "hiredis", providers: [.apt(["libhiredis-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),

        // Pure codecs: JSON, Engine.IO v4, Socket.IO v5. No I/O.
        .target(
            name: "PalisadeProtocol",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strict
        ),
        // The running server: HTTP, WebSocket, Engine.IO sessions, Socket.IO, rooms, configuration.
        .target(
            name: "PalisadeServer",
            dependencies: [
                "PalisadeProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Configuration", package: "swift-configuration"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "palisade",
            dependencies: [
                "PalisadeServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),

        // A server with test-only handlers (echo, rooms) for the interop and conformance suites.
        .executableTarget(
            name: "PalisadeTestServer",
            dependencies: [
                "PalisadeServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/PalisadeTestServer",
            swiftSettings: strict
        ),
        .testTarget(
            name: "PalisadeProtocolTests",
            dependencies: ["PalisadeProtocol", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "PalisadeServerTests",
            dependencies: [
                "PalisadeServer",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
    ]
)
