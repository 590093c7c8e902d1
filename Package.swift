// swift-tools-version:6.2
import PackageDescription

// Every target of ours builds in Swift 6 mode with strict concurrency, and a warning fails the build.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .treatAllWarnings(as: .error),
]

let package = Package(
    name: "bet-maker",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "betmaker-api", targets: ["betmaker-api"]),
        .executable(name: "betmaker-worker", targets: ["betmaker-worker"]),
        .library(name: "RedisClient", targets: ["RedisClient"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.4.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        // The web UI's server-rendered pages.
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        // Already in the graph through jwt-kit; base64url for tokens.
        .package(url: "https://github.com/swift-extras/swift-extras-base64.git", from: "1.2.0"),
    ],
    targets: [
        // Debian's libhiredis-dev 0.14.1: only its RESP reader and command formatter are used.
        .systemLibrary(
            name: "CHiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        .target(
            name: "RedisClient",
            dependencies: [
                "CHiredis",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // The domain and its Redis stores: money, ids, bets, accounts, the catalogue, settlement, the
        // Redis layout and its Lua scripts, the invariant checker. No HTTP, no configuration, no JSON
        // output: what the API and the worker have in common lives here or in BetMakerRuntime.
        .target(
            name: "BetMaker",
            dependencies: [
                "RedisClient",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ExtrasBase64", package: "swift-extras-base64"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // The outside world behind protocols the domain defines, one folder each with a fake for tests:
        // the payment provider's webhook signature, the email service provider (ESP), the price feeds
        // (CoinMarketCap, the simulated walk).
        .target(
            name: "Adapters",
            dependencies: [
                "BetMaker", "BetMakerRuntime", "RedisClient",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ExtrasBase64", package: "swift-extras-base64"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // What both executables need to run: settings, logging, metrics, the health and metrics routes,
        // the strict JSON codec and RFC 3339 times, the command-line helpers.
        .target(
            name: "BetMakerRuntime",
            dependencies: [
                "BetMaker",
                "RedisClient",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // The HTTP API on Hummingbird: routes, validation, problem+json, JSON output, authentication.
        .target(
            name: "BetMakerAPI",
            dependencies: [
                "BetMaker",
                "BetMakerRuntime",
                "Adapters",
                "RedisClient",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            // The OpenAPI document: compiled in as a string literal by the plugin, not a resource.
            exclude: ["openapi.json"],
            swiftSettings: strict,
            plugins: ["EmbedOpenAPIDocument"]
        ),
        // Build tool of the EmbedOpenAPIDocument plugin (docs/decisions/0021-openapi-document.md).
        .executableTarget(name: "embed-openapi-document", swiftSettings: strict),
        .plugin(name: "EmbedOpenAPIDocument", capability: .buildTool(), dependencies: ["embed-openapi-document"]),
        // The settlement worker and the ESP outbox's relay: the stream consumers, their maintenance and
        // the operations server. It must not link the API's authentication stack (jwt-kit, bcrypt).
        .target(
            name: "BetMakerWorker",
            dependencies: [
                "BetMaker",
                "BetMakerRuntime",
                "Adapters",
                "RedisClient",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "betmaker-api",
            dependencies: [
                "BetMakerAPI", "BetMakerRuntime", "BetMaker", "RedisClient",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "betmaker-worker",
            dependencies: [
                "BetMakerWorker", "BetMakerRuntime", "BetMaker", "RedisClient",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        // Real processes for tests and benchmarks: redis-server on a free port, children watched by output.
        .target(
            name: "TestSupport",
            dependencies: [
                "RedisClient", "BetMaker", "BetMakerRuntime", "Adapters",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "redis-bench",
            dependencies: ["RedisClient", "TestSupport"],
            path: "Sources/Benchmarks/redis-bench",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "betmaker-bench",
            dependencies: ["BetMaker", "BetMakerAPI", "BetMakerRuntime", "RedisClient", "TestSupport"],
            path: "Sources/Benchmarks/betmaker-bench",
            swiftSettings: strict
        ),
        .testTarget(
            name: "RedisClientTests",
            dependencies: [
                "RedisClient", "TestSupport",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // The domain and its stores against a real redis-server.
        .testTarget(
            name: "BetMakerTests",
            dependencies: [
                "BetMaker", "BetMakerRuntime", "BetMakerWorker", "RedisClient", "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // The API's router (no socket) against a real redis-server, and the OpenAPI document against the router.
        .testTarget(
            name: "BetMakerAPITests",
            dependencies: [
                "BetMaker", "BetMakerAPI", "BetMakerRuntime", "Adapters", "RedisClient", "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        // The JSON codec, the health probe, the compose file.
        .testTarget(
            name: "BetMakerRuntimeTests",
            dependencies: ["BetMakerRuntime", "TestSupport"],
            swiftSettings: strict
        ),
        // Starts the real betmaker-api and betmaker-worker executables and talks HTTP to them.
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "TestSupport", "RedisClient", "BetMaker", "BetMakerRuntime", "Adapters",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // Crashes and restarts of Redis and the worker, a full Redis, bad stream entries; each ends with
        // the invariant checker.
        .testTarget(
            name: "FaultTests",
            dependencies: [
                "TestSupport", "RedisClient", "BetMaker", "BetMakerRuntime", "Adapters",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
    ]
)
