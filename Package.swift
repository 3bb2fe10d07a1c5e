// swift-tools-version: 6.1
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "thurac",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "thurac", targets: ["thurac"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", exact: "0.6.0"),
        // The HTTP API (SPEC §6): Hummingbird without its optional swift-configuration support.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        // The web portal's pages: Mustache templates rendered on the server.
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        // bcrypt for the operators' passwords.
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
    ],
    targets: [
        // Wire codec: no I/O, no Foundation. The bottom of the stack.
        .target(name: "DNSWire", swiftSettings: strict),
        // Listing structures: immutable interval maps and name sets, answer values.
        .target(name: "Listings", dependencies: ["DNSWire"], swiftSettings: strict),
        // What a listing is about: IPv4/IPv6 ranges, domains, e-mail addresses; categories.
        .target(
            name: "ListingKeys",
            dependencies: ["DNSWire", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),
        // The listings store: SQLite (WAL) through GRDB, versioned migrations, audit log.
        .target(
            name: "Store",
            dependencies: [
                "ListingKeys", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
            ],
            swiftSettings: strict
        ),
        // Feeds -> reports: formats, policy, one transaction per feed.
        .target(
            name: "Ingestion", dependencies: ["Store", "ListingKeys", "RBLDatasets", "Listings", "CZlib"],
            swiftSettings: strict),
        // Spam reports by e-mail: MIME, Received chains, links, the Public Suffix List.
        .target(
            name: "MailIntake",
            dependencies: ["Store", "ListingKeys", "CZlib", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict),
        // The store's published listings as zones: snapshots to serve, and dumps.
        .target(
            name: "Publishing", dependencies: ["Store", "ListingKeys", "Listings", "DNSWire"], swiftSettings: strict),
        // The zone configuration (TOML) and zone skeletons (master files, through libldns).
        .target(
            name: "ZoneConfig",
            dependencies: [
                "Publishing", "Store", "ListingKeys", "Listings", "DNSWire", "CLDNS", "RateLimiting",
                .product(name: "TOMLKit", package: "TOMLKit"),
            ],
            swiftSettings: strict),
        // rbldnsd dataset files -> Listings.
        .target(
            name: "RBLDatasets",
            dependencies: ["Listings", "DNSWire", "CZlib"],
            swiftSettings: strict
        ),
        // Answer synthesis: a parsed query + a snapshot -> a response, in place.
        .target(name: "Responder", dependencies: ["DNSWire", "Listings"], swiftSettings: strict),
        // Response rate limiting: who may get how many answers per second (UDP).
        .target(name: "RateLimiting", dependencies: ["Listings"], swiftSettings: strict),
        // recvmmsg/sendmmsg shim for the UDP workers.
        .target(name: "CUDPBatch"),
        // UDP workers, NIO TCP, snapshot swapping, reloads.
        .target(
            name: "DNSTransport",
            dependencies: [
                "Responder", "CUDPBatch", "RateLimiting",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "ZoneTransfer",
            dependencies: [
                "DNSWire", "Listings", "ListingKeys", "Publishing", "ZoneConfig", "DNSTransport", "Responder",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "HTTPAPI",
            dependencies: [
                "Store", "Ingestion", "MailIntake", "Publishing", "ListingKeys", "ZoneConfig", "DNSTransport", "Listings",
                "RateLimiting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("openapi.yaml")],
            swiftSettings: strict
        ),
        // The web portal (issue 11): pages for people beside the API, on its listener.
        .target(
            name: "Portal",
            dependencies: [
                "HTTPAPI", "Store", "Publishing", "ListingKeys", "ZoneConfig",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            resources: [.copy("Resources/templates"), .copy("Resources/locales"), .copy("Resources/static")],
            swiftSettings: strict
        ),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CLDNS", pkgConfig: "ldns", providers: [.apt(["libldns-dev"])]),
        .executableTarget(
            name: "thurac",
            dependencies: [
                "DNSTransport", "RBLDatasets", "Responder", "Store", "ListingKeys", "Ingestion", "Publishing", "ZoneConfig",
                "ZoneTransfer", "HTTPAPI", "Portal", "MailIntake", "RateLimiting", "Listings",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // Shared by the test targets: libldns as an independent decoder, a seeded generator.
        .target(name: "TestSupport", dependencies: ["CLDNS"], path: "Tests/TestSupport", swiftSettings: strict),
        .testTarget(name: "DNSWireTests", dependencies: ["DNSWire", "CLDNS"], exclude: ["Corpus"], swiftSettings: strict),
        .testTarget(name: "ListingKeysTests", dependencies: ["ListingKeys"], swiftSettings: strict),
        .testTarget(
            name: "StoreTests", dependencies: ["Store", "ListingKeys", "Ingestion", "Publishing", "Listings", "TestSupport"],
            exclude: ["Feeds", "FeedCorpus"],
            swiftSettings: strict),
        .testTarget(
            name: "ZoneConfigTests", dependencies: ["ZoneConfig", "Publishing", "ListingKeys", "Listings", "Store", "RateLimiting"], exclude: ["Vectors", "Corpus"],
            swiftSettings: strict),
        .testTarget(
            name: "PublishingTests",
            dependencies: ["Publishing", "Store", "Ingestion", "ListingKeys", "Listings", "Responder", "DNSWire", "TestSupport"],
            swiftSettings: strict),
        .testTarget(
            name: "ZoneTransferTests",
            dependencies: [
                "ZoneTransfer", "ZoneConfig", "Publishing", "Listings", "ListingKeys", "Responder", "DNSWire", "TestSupport",
                "Store", "Ingestion", .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["TSIGCorpus"],
            swiftSettings: strict),
        .testTarget(name: "ListingsTests", dependencies: ["Listings", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "PortalTests", dependencies: ["Portal"], swiftSettings: strict),
        .testTarget(
            name: "DNSTransportTests",
            dependencies: [
                "DNSTransport", "DNSWire", "Listings", "RBLDatasets", "Responder", "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strict),
        .testTarget(name: "HTTPAPITests", dependencies: ["HTTPAPI", "Listings"], swiftSettings: strict),
        .testTarget(name: "RateLimitingTests", dependencies: ["RateLimiting", "Listings"], swiftSettings: strict),
        .testTarget(
            name: "MailIntakeTests", dependencies: ["MailIntake", "Store", "ListingKeys", "TestSupport"], exclude: ["Messages", "Corpus"],
            swiftSettings: strict),
        .testTarget(
            name: "RBLDatasetsTests",
            dependencies: ["RBLDatasets", "Listings", "TestSupport"],
            exclude: ["Vectors", "Corpus"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ResponderTests",
            dependencies: ["Responder", "RBLDatasets", "DNSWire", "Listings", "TestSupport"],
            exclude: ["Corpus", "FuzzSnapshot"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["DNSWire", "TestSupport", "ListingKeys", "DNSTransport"],
            exclude: ["SpamAssassin", "API", "Portal"],
            swiftSettings: strict
        ),
    ]
)
