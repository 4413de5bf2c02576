// swift-tools-version: 6.0
import PackageDescription

let package = Package(
  name: "sendplan",
  platforms: [.macOS(.v14)],
  products: [
    .executable(name: "sendplan", targets: ["sendplan"]),
    .executable(name: "sendplan-serve", targets: ["sendplan-serve"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
    .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
    .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
    .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.0.0"),
  ],
  targets: [
    .systemLibrary(
      name: "CZlib",
      path: "Sources/CZlib",
      providers: [.apt(["zlib1g-dev"])]
    ),
    .target(
      name: "CSendplanSys"
    ),
    .target(
      name: "CSendplanXML",
      cSettings: [.unsafeFlags(["-I/usr/include/libxml2"])],
      linkerSettings: [.linkedLibrary("xml2")]
    ),
    .target(
      name: "SendplanModel"
    ),
    .target(
      name: "SendplanReport",
      dependencies: [
        "SendplanModel", "SendplanEngine", "SendplanOutput", "CSendplanXML",
        .product(name: "Mustache", package: "swift-mustache"),
      ]
    ),
    .target(
      name: "SendplanInput",
      dependencies: [
        "SendplanModel", "CZlib",
        .product(name: "Crypto", package: "swift-crypto"),
      ]
    ),
    .target(
      name: "SendplanEngine",
      dependencies: ["SendplanModel"]
    ),
    .target(
      name: "SendplanOutput",
      dependencies: [
        "SendplanModel", "SendplanEngine", "CSendplanSys",
        .product(name: "Crypto", package: "swift-crypto"),
      ]
    ),
    .target(
      name: "SendplanAudit",
      dependencies: [
        "SendplanModel", "SendplanEngine", "SendplanOutput", "CSendplanSys",
        .product(name: "Crypto", package: "swift-crypto"),
      ]
    ),
    .target(
      name: "SendplanDiff",
      dependencies: ["SendplanModel", "SendplanEngine"]
    ),
    .target(
      name: "SendplanCLI",
      dependencies: [
        "SendplanModel", "SendplanInput", "SendplanEngine", "SendplanOutput", "SendplanDiff", "SendplanAudit",
        "SendplanReport", "SendplanLogging", "CSendplanSys", .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Logging", package: "swift-log"),
      ]
    ),
    .target(
      name: "SendplanLogging",
      dependencies: [
        "SendplanModel", "SendplanOutput",
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "Logging", package: "swift-log"),
      ]
    ),
    .target(
      name: "SendplanServer",
      dependencies: [
        "SendplanModel", "SendplanInput", "SendplanEngine", "SendplanOutput", "SendplanAudit",
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "HTTPTypes", package: "swift-http-types"),
        .product(name: "Logging", package: "swift-log"),
      ]
    ),
    .executableTarget(
      name: "sendplan-serve",
      dependencies: [
        "SendplanServer", "SendplanModel", "SendplanOutput", "SendplanLogging", "CSendplanSys",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "Logging", package: "swift-log"),
      ]
    ),
    .executableTarget(
      name: "sendplan",
      dependencies: ["SendplanCLI", .product(name: "Logging", package: "swift-log")]
    ),
    .target(
      name: "SendplanTestSupport",
      path: "Tests/SendplanTestSupport"
    ),
    .testTarget(
      name: "SendplanInputTests",
      dependencies: ["SendplanInput", "SendplanModel", "SendplanTestSupport"]
    ),
    .testTarget(
      name: "SendplanEngineTests",
      dependencies: ["SendplanEngine", "SendplanModel", "SendplanInput"]
    ),
    .testTarget(
      name: "SendplanAuditTests",
      dependencies: ["SendplanAudit", "SendplanTestSupport", .product(name: "Crypto", package: "swift-crypto")]
    ),
    .testTarget(
      name: "SendplanCLITests",
      dependencies: [
        "SendplanCLI", "SendplanModel", "SendplanOutput", "SendplanDiff", "SendplanAudit", "SendplanLogging",
        "SendplanTestSupport",
        .product(name: "Crypto", package: "swift-crypto"),
      ],
      exclude: ["Golden"]
    ),
    .testTarget(
      name: "SendplanServerTests",
      dependencies: [
        "SendplanServer", "SendplanModel", "SendplanAudit", "SendplanCLI", "SendplanTestSupport",
        .product(name: "HummingbirdTesting", package: "hummingbird"),
        .product(name: "HTTPTypes", package: "swift-http-types"),
        .product(name: "Logging", package: "swift-log"),
      ]
    ),
  ]
)
