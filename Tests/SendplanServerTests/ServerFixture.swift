import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import SendplanCLI
import SendplanModel
import SendplanTestSupport
import Testing

@testable import SendplanServer

/// A copy of the sample bundle, an audit folder and a nightly OUT (as of 2026-11-27) in a fresh folder.
struct ServerFixture {
  let dir: URL
  let bundle: URL
  let audit: String
  let out: String
  let service: SendplanService

  init(nightly: Bool = true) throws {
    dir = try scratchFolder("server")
    bundle = dir.appendingPathComponent("bundle")
    try FileManager.default.copyItem(atPath: sampleBundle, toPath: bundle.path)
    audit = dir.appendingPathComponent("audit").path
    out = dir.appendingPathComponent("out").path
    if nightly {
      let console = Console(capturing: true)
      let args = [
        "run", "--input", bundle.path, "--out", out, "--audit-dir", audit, "--as-of", "2026-11-27T02:00:00Z",
        "--quiet", "--no-reports",
      ]
      let code = Console.$current.withValue(console) { SendplanCommand.execute(args) }
      #expect(code == 0, "\(console.capturedErr)")
    } else {
      try FileManager.default.createDirectory(atPath: audit, withIntermediateDirectories: true)
    }
    let counter = Counter()
    service = SendplanService(
      settings: ServiceSettings(
        bundlePath: bundle.path, auditDir: audit, outDir: out, now: { Timestamp(seconds: 1_795_838_400) },
        runSuffix: { String(counter.next()) }),
      logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
    #expect((try? service.reload().get()) == 2)
  }

  func app(auth: AuthMode = .trustedHeader, admin: String? = nil) -> some ApplicationProtocol {
    Application(
      router: makeRouter(
        service: service, auth: auth, adminToken: admin,
        logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }), clock: { 0 }))
  }
}

final class Counter: @unchecked Sendable {
  private var n = 0
  private let lock = NSLock()
  func next() -> Int {
    lock.withLock {
      n += 1; return n
    }
  }
}

// swift-format-ignore: NeverForceUnwrap
// A constant, valid field name; the initializer fails only for invalid tokens.
let customerHeader = HTTPField.Name("X-Customer-Id")!

func headers(_ customer: String?, token: String? = nil) -> HTTPFields {
  var h = HTTPFields()
  if let customer { h[customerHeader] = customer }
  if let token { h[.authorization] = "Bearer \(token)" }
  return h
}

func object(_ r: TestResponse) throws -> [String: Any] {
  let any = try JSONSerialization.jsonObject(with: Data(buffer: r.body))
  return try #require(any as? [String: Any], "not an object: \(String(buffer: r.body))")
}

func errorCode(_ r: TestResponse) throws -> String? {
  (try object(r)["error"] as? [String: Any])?["code"] as? String
}
