// swift-tools-version: 6.2
import PackageDescription

/// Warnings are errors in every target of ours (STYLE.md).
let strict: [SwiftSetting] = [.unsafeFlags(["-warnings-as-errors"])]

let package = Package(
    name: "Palisade",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "palisade", targets: ["palisade"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0", traits: ["JSON", "YAML"]),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // System C libraries (pkg-config + apt). Never vendored.
        .systemLibrary(name: "CLua", pkgConfig: "lua5.4", providers: [.apt(["liblua5.4-dev"])]),
        .systemLibrary(name: "CHiredis", pkgConfig: "hiredis", providers: [.apt(["libhiredis-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),

        // JSON values, the strict parser and the writer. No I/O.
        .target(name: "PalisadeJSON", dependencies: [.product(name: "NIOCore", package: "swift-nio")], swiftSettings: strict),
        // Pure codecs: Engine.IO v4, Socket.IO v5, base64, UTF-8. No I/O.
        .target(
            name: "PalisadeProtocol",
            dependencies: ["PalisadeJSON", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strict
        ),
        // The hook contract between the core and what decides and handles: GatewayPolicy, the decisions,
        // the socket, handle and rooms protocols a policy or core handler may use, HandshakeRequest, the
        // shared name table. The server implements it; the policy engine and the Yjs relay see only it.
        .target(
            name: "PalisadeGateway",
            dependencies: [
                "PalisadeJSON", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // JWT verification and signing over OpenSSL libcrypto. No I/O but an explicit key-file loader.
        .target(name: "PalisadeJWT", dependencies: ["COpenSSL", "PalisadeJSON"], swiftSettings: strict),
        // Our own C for the Lua bridge: macro wrappers, host-function trampoline, budget hook, capped allocator.
        .target(name: "CPalisadeShims", dependencies: ["CLua"]),
        // The Lua policy engine: VMs per loop and generation, the value bridge, hooks, host API, reload.
        // It implements the contract's GatewayPolicy and never sees the server.
        .target(
            name: "PalisadePolicy",
            dependencies: [
                "PalisadeJSON",
                "CLua", "COpenSSL", "CPalisadeShims", "PalisadeGateway", "PalisadeJWT", "PalisadeProtocol", "PalisadeState",
                "PalisadeHTTPClient",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"), .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        // `px.http`'s client: HTTP/1.1 on SwiftNIO, TLS through PalisadeTLS, an allow-list and a response cache.
        .target(
            name: "PalisadeHTTPClient",
            dependencies: [
                "PalisadeTLS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // The Yjs update format (v1): decode, validate, state vectors, merge, diff. Pure, no I/O.
        .target(name: "PalisadeYjs", swiftSettings: strict),
        // SQLite plumbing the directory and the documents share: opening a file in WAL mode, prepared
        // statements, failures, the data directory.
        .target(
            name: "PalisadeSQLite", dependencies: ["CSQLite", .product(name: "NIOConcurrencyHelpers", package: "swift-nio")],
            swiftSettings: strict),
        // Durable Yjs documents (snapshot + update log): the DocumentStore protocol, SQLite and memory backends.
        .target(
            name: "PalisadeDocuments",
            dependencies: [
                "CSQLite", "PalisadeSQLite",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // The core's `ydoc:*` events: join, update, state, leave, awareness; compaction, limits, content snapshots.
        .target(
            name: "PalisadeYjsRelay",
            dependencies: [
                "PalisadeJSON",
                "PalisadeGateway", "PalisadeYjs", "PalisadeDocuments",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"), .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        // Cross-connection state behind px.store and px.ratelimit: memory backends, thread-safe and bounded.
        .target(
            name: "PalisadeState",
            dependencies: [.product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOConcurrencyHelpers", package: "swift-nio")],
            swiftSettings: strict),
        // The directory of users, groups, notes and channels that access rules read: SQLite on a thread pool, or memory.
        .target(
            name: "PalisadeDirectory",
            dependencies: [
                "CSQLite", "PalisadeJSON", "PalisadeSQLite", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"), .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ], swiftSettings: strict),
        // TLS in a NIO pipeline over OpenSSL memory BIOs, both sides (clients, and the listener's termination).
        .target(
            name: "PalisadeTLS",
            dependencies: ["COpenSSL", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strict
        ),
        // The Redis client: NIO owns the socket, hiredis formats commands and reads replies; pub/sub, Sentinel.
        .target(
            name: "PalisadeRedis",
            dependencies: [
                "CHiredis", "PalisadeTLS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"), .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        // px.store and px.ratelimit on Redis (one server-side script per operation), and the wrappers that fall back
        // to the memory backends while Redis is down; Open WebUI's pool cleanups under its locks; the
        // directory and Yjs documents shared by every instance (RedisDirectoryStore, RedisDocumentStore).
        .target(
            name: "PalisadeRedisState",
            dependencies: [
                "PalisadeState", "PalisadeRedis", "PalisadeDirectory", "PalisadeDocuments", "PalisadeJSON",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"), .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        // The running server: HTTP, WebSocket, Engine.IO sessions, Socket.IO, rooms, configuration.
        .target(
            name: "PalisadeServer",
            dependencies: [
                "PalisadeGateway",
                "PalisadeJSON",
                "COpenSSL",
                "PalisadeTLS",
                "PalisadeProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Yams", package: "Yams"), .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        // Rooms across processes on Redis pub/sub, in python-socketio's format (Open WebUI's room channels).
        .target(
            name: "PalisadeCluster",
            dependencies: [
                "PalisadeServer", "PalisadeRedis", "PalisadeGateway", "PalisadeJSON", "PalisadeProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "palisade",
            dependencies: [
                "PalisadeGateway",
                "PalisadeJSON",
                "PalisadeServer", "PalisadePolicy", "PalisadeJWT", "PalisadeDirectory", "PalisadeHTTPClient",
                "PalisadeYjsRelay", "PalisadeDocuments", "PalisadeCluster", "PalisadeRedis", "PalisadeRedisState", "PalisadeState",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"), .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict
        ),

        // Micro-benchmark of hook calls (`make bench`): not a test, not part of the product.
        .executableTarget(
            name: "palisade-hookbench",
            dependencies: [
                "PalisadeJSON", "PalisadePolicy", "CLua", "CPalisadeShims", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"), .product(name: "Logging", package: "swift-log"),
            ],
            path: "benchmarks/HookBench",
            swiftSettings: strict
        ),

        // The benchmark's server in-process for a set time, for callgrind (benchmarks/server-instructions.sh).
        .executableTarget(
            name: "palisade-serverbench",
            dependencies: [
                "PalisadeGateway", "PalisadeDocuments", "PalisadePolicy", "PalisadeServer", "PalisadeYjsRelay",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"), .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            path: "benchmarks/ServerBench",
            swiftSettings: strict
        ),

        // The Socket.IO load client of `make bench` (connect, echo, fanout, yjs modes).
        .executableTarget(
            name: "palisade-bench",
            dependencies: [
                "PalisadeJSON", "PalisadeRedis",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "benchmarks/LoadClient",
            swiftSettings: strict
        ),

        // Merge/diff of Yjs updates from the command line, so the interop tests can check them with pycrdt.
        .executableTarget(name: "palisade-yjs-tool", dependencies: ["PalisadeYjs"], path: "Tests/YjsTool", swiftSettings: strict),

        // A server with test-only handlers (echo, rooms) for the interop and conformance suites.
        .executableTarget(
            name: "PalisadeTestServer",
            dependencies: [
                "PalisadeGateway",
                "PalisadeJSON",
                "PalisadeServer",
                "PalisadeCluster",
                "PalisadeRedis",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/PalisadeTestServer",
            swiftSettings: strict
        ),
        // Helpers the test targets share (a seeded generator for fuzz loops); no product links it.
        .target(
            name: "PalisadeTestSupport", dependencies: [.product(name: "NIOCore", package: "swift-nio")], path: "Tests/PalisadeTestSupport"),
        .testTarget(
            name: "PalisadeJSONTests",
            dependencies: ["PalisadeJSON", "PalisadeTestSupport", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strict),
        .testTarget(
            name: "PalisadeProtocolTests",
            dependencies: ["PalisadeJSON", "PalisadeProtocol", "PalisadeTestSupport", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "PalisadePolicyTests",
            dependencies: [
                "PalisadeGateway",
                "PalisadeJSON",
                "PalisadePolicy", "PalisadeJWT", "PalisadeServer", "PalisadeState", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "PalisadeJWTTests", dependencies: ["PalisadeJWT", "PalisadeJSON", "PalisadeProtocol"], exclude: ["Fixtures"],
            swiftSettings: strict),
        .testTarget(name: "PalisadeYjsTests", dependencies: ["PalisadeYjs"], exclude: ["Fixtures"], swiftSettings: strict),
        .testTarget(
            name: "PalisadeDocumentsTests",
            dependencies: [
                "PalisadeDocuments", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "PalisadeYjsRelayTests",
            dependencies: ["PalisadeGateway", "PalisadeYjsRelay", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "PalisadeStateTests",
            dependencies: [
                "PalisadeState", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            ], swiftSettings: strict),
        .testTarget(
            name: "PalisadeDirectoryTests",
            dependencies: [
                "PalisadeDirectory", "PalisadeJSON", "PalisadeRedisState", "PalisadeRedis", "PalisadeRedisTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ], swiftSettings: strict),
        .testTarget(
            name: "PalisadeHTTPClientTests", dependencies: ["PalisadeHTTPClient", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strict),
        .testTarget(name: "PalisadeGatewayTests", dependencies: ["PalisadeGateway"], swiftSettings: strict),
        .testTarget(
            name: "PalisadeTLSTests",
            dependencies: [
                "PalisadeTLS", "PalisadeTestSupport", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ], swiftSettings: strict),
        // What the Redis test targets share: a real redis-server per test; no product links it.
        .target(
            name: "PalisadeRedisTestSupport",
            dependencies: [
                "PalisadeRedis", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Tests/PalisadeRedisTestSupport"
        ),
        .testTarget(
            name: "PalisadeRedisTests",
            dependencies: [
                "PalisadeRedisTestSupport", "PalisadeTestSupport",
                "PalisadeRedis",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "PalisadeClusterTests",
            dependencies: ["PalisadeCluster", "PalisadeJSON", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "PalisadeRedisStateTests",
            dependencies: [
                "PalisadeRedisTestSupport",
                "PalisadeRedisState", "PalisadeState", "PalisadeRedis", "PalisadeTestSupport", "PalisadeDocuments",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "PalisadeServerTests",
            dependencies: [
                "PalisadeGateway",
                "PalisadeTLS", "PalisadeTestSupport",
                "PalisadeJSON",
                "PalisadeServer",
                "PalisadeProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
    ]
)

// `make fuzz` only (PALISADE_FUZZ set): the libFuzzer targets over the codecs (FUZZING.md). They need
// `-sanitize=fuzzer` and testable imports, so the normal build never sees them.
if Context.environment["PALISADE_FUZZ"] != nil {
    package.targets.append(
        .executableTarget(
            name: "palisade-fuzz",
            dependencies: [
                "CLua", "CPalisadeShims", "PalisadeGateway", "PalisadeJSON", "PalisadeJWT", "PalisadePolicy", "PalisadeProtocol",
                "PalisadeServer", "PalisadeYjs", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "fuzz/Sources",
            swiftSettings: strict
        ))
}
