// swift-tools-version: 6.0
import PackageDescription

// Modules by concern; the graph reads top-down (see docs/architecture.md).
let crypto = Target.Dependency.product(name: "Crypto", package: "swift-crypto")
let swiftLog = Target.Dependency.product(name: "Logging", package: "swift-log")
let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")
let hummingbird = Target.Dependency.product(name: "Hummingbird", package: "hummingbird")
let httpTypes = Target.Dependency.product(name: "HTTPTypes", package: "swift-http-types")

let package = Package(
  name: "sendplan",
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
  ],
  targets: [
    // C: system libraries and the small shims in front of them.
    .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
    .systemLibrary(name: "CLibXML2", pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]),
    .target(name: "CSendplanSys"),
    .target(name: "CSendplanXML", dependencies: ["CLibXML2"]),

    // Foundations: the error shape, domain values, JSON, the file system.
    .target(name: "SendplanDiagnostics"),
    .target(name: "SendplanModel", dependencies: [crypto]),
    .target(name: "SendplanJSON"),
    .target(name: "SendplanFileSystem", dependencies: ["SendplanDiagnostics", "SendplanJSON", "CSendplanSys"]),

    // Reading and planning.
    .target(
      name: "SendplanInput", dependencies: ["SendplanDiagnostics", "SendplanModel", "SendplanJSON", "CZlib", crypto]),
    .target(name: "SendplanEngine", dependencies: ["SendplanModel"]),

    // Writers of a planned tenant; none depends on another.
    .target(
      name: "SendplanDryRun",
      dependencies: ["SendplanDiagnostics", "SendplanModel", "SendplanEngine", "SendplanJSON", "SendplanFileSystem"]),
    .target(name: "SendplanEvidence", dependencies: ["SendplanModel", "SendplanEngine", "SendplanJSON"]),
    .target(
      name: "SendplanAudit",
      dependencies: [
        "SendplanDiagnostics", "SendplanModel", "SendplanEngine", "SendplanEvidence", "SendplanJSON",
        "SendplanFileSystem", "CSendplanSys", crypto,
      ]),
    .target(
      name: "SendplanReport",
      dependencies: [
        "SendplanDiagnostics", "SendplanModel", "SendplanEngine", "SendplanEvidence", "SendplanJSON",
        "SendplanFileSystem", "CSendplanXML",
      ]),

    // Readers of finished runs.
    .target(name: "SendplanDiff", dependencies: ["SendplanDiagnostics", "SendplanModel", "SendplanJSON"]),

    // The run: one pipeline over the readers, the planner and the writers.
    .target(
      name: "SendplanRun",
      dependencies: [
        "SendplanDiagnostics", "SendplanModel", "SendplanJSON", "SendplanFileSystem", "SendplanInput",
        "SendplanEngine", "SendplanEvidence", "SendplanDryRun", "SendplanAudit", "SendplanReport", "CSendplanSys",
      ]),

    // Edges: logging, the CLI and the server, and the two executables.
    .target(name: "SendplanLogging", dependencies: ["SendplanJSON", "SendplanModel", crypto, swiftLog]),
    .target(
      name: "SendplanCLI",
      dependencies: [
        "SendplanDiagnostics", "SendplanModel", "SendplanJSON", "SendplanFileSystem", "SendplanInput",
        "SendplanEngine", "SendplanAudit", "SendplanReport", "SendplanDiff", "SendplanRun", "SendplanLogging",
        "CSendplanSys", crypto, argumentParser, swiftLog,
      ]),
    .target(
      name: "SendplanServer",
      dependencies: [
        "SendplanDiagnostics", "SendplanModel", "SendplanJSON", "SendplanFileSystem", "SendplanInput", "SendplanAudit",
        "SendplanRun", crypto, hummingbird, httpTypes, swiftLog,
      ]),
    .executableTarget(name: "sendplan", dependencies: ["SendplanCLI", swiftLog]),
    .executableTarget(
      name: "sendplan-serve",
      dependencies: [
        "SendplanServer", "SendplanModel", "SendplanFileSystem", "SendplanLogging", argumentParser, hummingbird,
        swiftLog,
      ]),

    // Tests: one target per library module, plus shared helpers.
    .target(name: "SendplanTestSupport", path: "Tests/SendplanTestSupport"),
    .testTarget(name: "SendplanDiagnosticsTests", dependencies: ["SendplanDiagnostics"]),
    .testTarget(name: "SendplanModelTests", dependencies: ["SendplanModel"]),
    .testTarget(name: "SendplanJSONTests", dependencies: ["SendplanJSON"]),
    .testTarget(
      name: "SendplanFileSystemTests",
      dependencies: ["SendplanFileSystem", "SendplanDiagnostics", "SendplanTestSupport"]),
    .testTarget(
      name: "SendplanInputTests",
      dependencies: ["SendplanInput", "SendplanModel", "SendplanDiagnostics", "SendplanEngine", "SendplanTestSupport"]),
    .testTarget(name: "SendplanEngineTests", dependencies: ["SendplanEngine", "SendplanModel"]),
    .testTarget(
      name: "SendplanDryRunTests",
      dependencies: [
        "SendplanDryRun", "SendplanEngine", "SendplanModel", "SendplanJSON", "SendplanFileSystem", "SendplanInput",
        "SendplanTestSupport",
      ]),
    .testTarget(
      name: "SendplanAuditTests",
      dependencies: [
        "SendplanAudit", "SendplanModel", "SendplanDiagnostics", "SendplanInput", "SendplanEngine", "SendplanJSON",
        "SendplanTestSupport", crypto,
      ]),
    .testTarget(
      name: "SendplanReportTests",
      dependencies: [
        "SendplanReport", "SendplanEngine", "SendplanEvidence", "SendplanJSON", "SendplanModel", "SendplanInput",
        "SendplanFileSystem", "SendplanDiagnostics", "SendplanTestSupport",
      ],
      exclude: ["Fixtures"]),
    .testTarget(
      name: "SendplanDiffTests", dependencies: ["SendplanDiff", "SendplanDiagnostics", "SendplanTestSupport"]),
    .testTarget(
      name: "SendplanRunTests",
      dependencies: [
        "SendplanRun", "SendplanAudit", "SendplanModel", "SendplanDiagnostics", "SendplanFileSystem", "SendplanJSON",
        "SendplanTestSupport", crypto,
      ]),
    .testTarget(name: "SendplanLoggingTests", dependencies: ["SendplanLogging", swiftLog]),
    .testTarget(
      name: "SendplanCLITests",
      dependencies: [
        "SendplanCLI", "SendplanModel", "SendplanInput", "SendplanRun", "SendplanAudit", "SendplanTestSupport",
      ],
      exclude: ["Golden"]
    ),
    .testTarget(
      name: "SendplanServerTests",
      dependencies: [
        "SendplanServer", "SendplanModel", "SendplanAudit", "SendplanCLI", "SendplanTestSupport", hummingbird,
        .product(name: "HummingbirdTesting", package: "hummingbird"), httpTypes, swiftLog,
      ]
    ),
  ]
)
