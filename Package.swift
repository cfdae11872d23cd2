// swift-tools-version:6.2
import PackageDescription

let package = Package(
    name: "Switchboard",
    // Mutex and Atomic (Synchronization), which the client uses, need these releases.
    platforms: [.macOS(.v15), .iOS(.v18), .tvOS(.v18), .watchOS(.v11), .visionOS(.v2)],
    products: [
        .executable(name: "switchboard", targets: ["switchboard"]),
        // The client and the messages it speaks (SwitchboardWire), without the nodes' gRPC.
        .library(name: "SwitchboardClient", targets: ["SwitchboardClient", "SwitchboardWire"]),
    ],
    // Ranges (from the versions the tests ran, up to the next major), so that a package that
    // depends on SwitchboardClient can resolve beside its other dependencies; the versions
    // this package builds, tests and ships are the ones Package.resolved pins.
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/swift-websocket.git", from: "1.6.2"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/grpc/grpc-swift-2.git", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf.git", from: "2.4.1"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
    ],
    targets: [
        // Swift generated from Protos/ by scripts/generate-protos.sh (committed, never generated
        // at build time). SwitchboardWire: what clients speak — the envelope and the backend
        // routes' messages, protobuf only. SwitchboardProtocol: the nodes' Gateway API and
        // relay messages and every gRPC stub; it re-exports SwitchboardWire.
        .target(
            name: "SwitchboardWire",
            dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")]
        ),
        .target(
            name: "SwitchboardProtocol",
            dependencies: [
                "SwitchboardWire",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
            ]
        ),
        // Small pieces every target may use: host:port, wall-clock time, duration units,
        // the open-file limit; the settings engine (Settings/) the node and the backends read
        // their settings with; child processes and local Redis Clusters (Process/).
        .target(name: "Essentials"),
        // Who is who: user ids (their rule) and cluster-unique connection ids.
        .target(name: "Identity"),
        // Debian's libhiredis-dev, for RedisClient alone.
        .systemLibrary(
            name: "CHiredis",
            pkgConfig: "hiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        // glibc's malloc.h, for returning freed memory to the OS.
        .systemLibrary(name: "CMalloc"),
        // The only code that touches hiredis.
        .target(
            name: "RedisClient",
            dependencies: [
                "CHiredis",
                "Essentials",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // Client tokens: minting (the CLI, the load generator, tests) and verification (the node).
        .target(
            name: "Auth",
            dependencies: [
                "Identity",
                "Essentials",
                .product(name: "JWTKit", package: "jwt-kit"),
                // HMAC, to derive secrets of their own from the ones operators set.
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // gRPC plumbing shared by nodes, backends and the load generator: endpoints,
        // HTTP/2 clients, a server as a Service, TLS and mutual TLS from files, secrets.
        .target(
            name: "GRPCSupport",
            dependencies: [
                "Essentials",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCertificateReloading", package: "swift-nio-extras"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "Presence",
            dependencies: [
                "Identity",
                "Essentials",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // A client's call to a backend: the route table from call names to typed gRPC
        // methods, the arguments' and results' mapping.
        .target(
            name: "BackendCalls",
            dependencies: [
                "GRPCSupport",
                "SwitchboardProtocol",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        // Where a message goes: local delivery, the push router, the relay bus protocol,
        // payloads and the durable inbox's positions.
        .target(
            name: "Routing",
            dependencies: [
                "Essentials",
                "Identity",
                "SwitchboardProtocol",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        // The cluster's state in Redis (or a Redis Cluster), behind the protocols of
        // Presence and Routing: presence and the node leases, the relay bus and its holder
        // book, the durable inbox's scripts, the dashboard's stats — the only target that
        // speaks Redis besides RedisClient itself.
        .target(
            name: "RedisBackplane",
            dependencies: [
                "Identity",
                "Essentials",
                "Presence",
                "RedisClient",
                "Routing",
                "SwitchboardProtocol",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        .target(
            name: "Node",
            dependencies: [
                "Identity",
                "BackendCalls",
                .product(name: "NIOCertificateReloading", package: "swift-nio-extras"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                "GRPCSupport",
                "Auth",
                "CMalloc",
                "Essentials",
                "Routing",
                "Presence",
                "RedisBackplane",
                "RedisClient",
                "SwitchboardProtocol",
                "WebAssets",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                // Fetches the identity provider's JWKS (--jwks-url).
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        // The Swift client library: reconnects, typed calls, pushes as an AsyncStream; on
        // SwiftNIO (swift-websocket's client), for Linux servers and Apple platforms.
        .target(
            name: "SwitchboardClient",
            dependencies: [
                "SwitchboardWire",
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // The demo app and the cluster dashboard nodes serve, with the JavaScript client
        // (Files/switchboard.js links to Clients/JavaScript), built into the binary.
        .target(name: "WebAssets", resources: [.embedInCode("Files")]),
        // Location, Chat and Notification services that really work, in memory.
        .target(
            name: "Backends",
            dependencies: [
                "Identity",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                "Auth",
                "GRPCSupport",
                "Essentials",
                "SwitchboardProtocol",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "Bench",
            dependencies: [
                "SwitchboardClient",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                "GRPCSupport",
                "Auth",
                "Essentials",
                "SwitchboardProtocol",
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "switchboard",
            dependencies: [
                "RedisBackplane",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                "GRPCSupport",
                "Auth",
                "Node",
                "Routing",
                "Bench",
                "Backends",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // What the fuzzers feed untrusted bytes to: the JSON and protobuf envelope decoders,
        // the relay batch decoder, the WebSocket frame path, the HTTP upgrade path and
        // signed tokens' claims.
        .target(
            name: "FuzzTargets",
            dependencies: [
                "Auth",
                .product(name: "JWTKit", package: "jwt-kit"),
                "Node",
                "RedisBackplane",
                "Routing",
                "SwitchboardProtocol",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        // libFuzzer's entry point when built by scripts/fuzz.sh (-sanitize=fuzzer,address
        // -DFUZZING); otherwise a replayer of input files through the same targets.
        .executableTarget(
            name: "switchboard-fuzz",
            dependencies: ["FuzzTargets"]
        ),
        // What every test target shares, without the app: processes under the watchdog,
        // real Redis servers and clusters, certificates, polling, a manual clock for
        // virtual time, raw and scripted sockets, and the tags.
        .target(
            name: "TestSupport",
            dependencies: [
                "Essentials",
                "RedisClient",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            path: "Tests/Support"
        ),
        // Real nodes, backends and WebSocket clients in scoped fixtures, for the targets
        // that test the app (NodeTests, ClientTests, IntegrationTests).
        .target(
            name: "NodeTestSupport",
            dependencies: [
                "BackendCalls",
                "TestSupport",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                "Essentials",
                "GRPCSupport",
                "Auth",
                "Node",
                "Backends",
                "Routing",
                "Presence",
                "RedisBackplane",
                "RedisClient",
                "SwitchboardProtocol",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            path: "Tests/NodeSupport"
        ),
        .testTarget(
            name: "AuthTests",
            dependencies: ["Auth", "TestSupport", .product(name: "JWTKit", package: "jwt-kit")]
        ),
        .testTarget(
            name: "RedisClientTests",
            dependencies: [
                "RedisClient",
                "TestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "PresenceTests",
            dependencies: [
                "Identity",
                "Essentials",
                "Presence",
                "RedisBackplane",
                "RedisClient",
                "TestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "RoutingTests",
            dependencies: [
                "BackendCalls",
                "RedisBackplane",
                "Routing",
                "SwitchboardProtocol",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        .testTarget(
            name: "NodeTests",
            dependencies: [
                "Identity",
                "BackendCalls",
                "Auth",
                "Essentials",
                "FuzzTargets",
                "GRPCSupport",
                "RedisBackplane",
                "RedisClient",
                "Routing",
                "Node",
                "Presence",
                "SwitchboardProtocol",
                "NodeTestSupport",
                "TestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // The Swift client library against real nodes (in process and as processes), real
        // Redis and the reference backends.
        .testTarget(
            name: "ClientTests",
            dependencies: [
                "SwitchboardClient",
                "SwitchboardProtocol",
                "Node",
                "NodeTestSupport",
                "TestSupport",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ]
        ),
        // Real processes, clusters and deployment files: nodes on loopback ports, a real
        // redis-server, real gRPC and WebSocket clients.
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "Identity",
                "BackendCalls",
                .product(name: "WSCore", package: "swift-websocket"),
                .product(name: "JWTKit", package: "jwt-kit"),
                "GRPCSupport",
                "Auth",
                "Node",
                "Backends",
                "Bench",
                "Routing",
                "RedisBackplane",
                "Presence",
                "RedisClient",
                "SwitchboardProtocol",
                "NodeTestSupport",
                "TestSupport",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)

// Hummingbird's upcoming features: a file sees only the members of modules it imports, and
// an import is internal unless marked (`package import` where a module's types appear in
// this package's own declarations). Generated code keeps its public imports.
for target in package.targets where target.type != .system {
    var features: [SwiftSetting] = [.enableUpcomingFeature("MemberImportVisibility")]
    if !["SwitchboardProtocol", "SwitchboardWire"].contains(target.name) { features.append(.enableUpcomingFeature("InternalImportsByDefault")) }
    target.swiftSettings = (target.swiftSettings ?? []) + features
}
