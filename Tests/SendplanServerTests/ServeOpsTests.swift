import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import SendplanTestSupport
import Testing

@testable import SendplanServer

/// Collects log events for assertions.
final class LogSink: @unchecked Sendable {
  private let lock = NSLock()
  private var events: [(String, Logger.Metadata)] = []
  func add(_ m: String, _ md: Logger.Metadata) { lock.withLock { events.append((m, md)) } }
  var all: [(String, Logger.Metadata)] { lock.withLock { events } }
}

struct SinkHandler: LogHandler {
  let sink: LogSink
  var metadata: Logger.Metadata = [:]
  var logLevel: Logger.Level = .trace
  subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { metadata[key] }
    set { metadata[key] = newValue }
  }
  func log(event: LogEvent) { sink.add(event.message.description, metadata.merging(event.metadata ?? [:]) { $1 }) }
}

@Suite struct ServeOpsTests {
  @Test func requestLogsCarryTheRouteTemplateAndNoAddress() async throws {
    let f = try ServerFixture()
    let sink = LogSink()
    let logger = Logger(label: "test", factory: { _ in SinkHandler(sink: sink) })
    let ticks = Counter()
    let app = Application(
      router: makeRouter(
        service: f.service, auth: .trustedHeader, adminToken: nil, logger: logger,
        clock: { Double(ticks.next()) / 1000 }))
    try await app.test(.router) { client in
      _ = try await client.execute(uri: "/api/enrollments/e01/dry-run", method: .post, headers: headers("acme"))
      _ = try await client.execute(uri: "/api/enrollments/e02/audit", method: .get, headers: headers("globex"))
    }
    let requests = sink.all.filter { $0.0 == "request" }.map(\.1)
    #expect(requests.count == 2)
    let first = try #require(requests.first)
    #expect(first["method"]?.description == "POST" && first["status"]?.description == "200")
    #expect(first["customerId"]?.description == "acme" && first["durationMs"]?.description == "1.0")
    let routes = requests.compactMap { $0["route"]?.description }
    #expect(routes.allSatisfy { $0.contains(":id") || $0.contains("{id}") }, "\(routes)")
    #expect(!routes.contains { $0.contains("e01") || $0.contains("e02") })
    #expect(requests.last?["status"]?.description == "404")
    let text = sink.all.map { "\($0.0) \($0.1)" }.joined(separator: "\n")
    #expect(!text.contains("@"), "\(text)")
  }

  @Test func trustedHeaderIsRefusedOffLoopbackWithoutTheGatewayFlag() throws {
    let p = Process()
    p.executableURL = try builtExecutable("sendplan-serve")
    p.arguments = ["--input", sampleBundle, "--audit-dir", "/tmp", "--host", "0.0.0.0"]
    let err = Pipe()
    p.standardError = err
    try p.run()
    let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    #expect(p.terminationStatus == 64, "\(text)")
    #expect(text.contains("--i-am-behind-a-gateway"))
  }
}
