import ArgumentParser
import Dispatch
import Hummingbird
import Logging
import SendplanFileSystem
import SendplanLogging
import SendplanModel
import SendplanServer

#if canImport(Glibc)
  import Glibc
#endif

/// `sendplan-serve`: the Stage 2A endpoints over the same engine and audit trail as `sendplan run`.
@main
struct Serve: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "sendplan-serve",
    abstract: "Serve POST /api/enrollments/:id/dry-run, GET …/audit and GET …/queue over a bundle and an audit folder.",
    discussion: """
      Loads the bundle at start and again on SIGHUP or POST /admin/reload; a broken bundle is refused and
      the previous one stays in use. Stops gracefully on SIGTERM or SIGINT. See docs/serve.md.
      EXIT CODES: 0 stopped, 64 bad options, 65 the bundle or a key/token file is invalid at start.
      """
  )

  @Option(name: .long, help: "The export bundle folder.")
  var input: String

  @Option(name: .customLong("audit-dir"), help: "The audit folder shared with the nightly `sendplan run`.")
  var auditDir: String

  @Option(name: .long, help: "The nightly run's OUT folder, for GET …/queue.")
  var out: String?

  @Option(name: .long, help: "Address to bind; loopback unless --i-am-behind-a-gateway.")
  var host = "127.0.0.1"

  @Option(name: .long, help: "Port to listen on.")
  var port = 8080

  @Option(name: .long, help: "trusted-header (X-Customer-Id set by a gateway) or token (bearer tokens from --tokens).")
  var auth = "trusted-header"

  @Option(name: .long, help: "With --auth token: lines `TOKEN CUSTOMER_ID`.")
  var tokens: String?

  @Flag(
    name: .customLong("i-am-behind-a-gateway"),
    help: "Allow --auth trusted-header on a non-loopback address (a gateway must set X-Customer-Id).")
  var behindGateway = false

  @Option(name: .customLong("admin-token-file"), help: "Enables POST /admin/reload for this bearer token.")
  var adminTokenFile: String?

  @Option(name: .customLong("signing-key"), help: "Ed25519 key that signs on-demand seals.")
  var signingKey: String?

  @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
  var logLevel = "info"

  @Option(name: .customLong("log-format"), help: "text or json (JSON Lines on stderr), as for `sendplan run`.")
  var logFormat = "text"

  @Option(
    name: .customLong("max-record-bytes"),
    help: "Largest CSV record or field or JSONL line in the bundle, such as 64K or 4M (default: 1M).")
  var maxRecordBytes: String?

  func validate() throws {
    guard ["trusted-header", "token"].contains(auth) else {
      throw ValidationError("--auth must be trusted-header or token")
    }
    if auth == "token" && tokens == nil { throw ValidationError("--auth token needs --tokens FILE") }
    if auth == "trusted-header" && !Serve.isLoopback(host) && !behindGateway {
      throw ValidationError(
        "--auth trusted-header trusts X-Customer-Id from anyone who can connect; on \(host) that is not only this "
          + "machine. Put a gateway in front and pass --i-am-behind-a-gateway, or use --auth token")
    }
    guard (1...65535).contains(port) else { throw ValidationError("--port must be 1 to 65535") }
    if let maxRecordBytes, ServiceSettings.parseRecordBytes(maxRecordBytes) == nil {
      throw ValidationError(
        "--max-record-bytes \(maxRecordBytes.debugDescription) is not a size from 1 to 1G, such as 64K or 4M")
    }
    guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
    guard LogFormat(rawValue: logFormat) != nil else { throw ValidationError("--log-format must be text or json") }
  }

  /// Now, UTC, RFC 3339 with milliseconds, for log lines.
  @Sendable static func timestamp() -> String {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    let base = Timestamp(seconds: Int64(ts.tv_sec)).rfc3339
    let ms = Int(ts.tv_nsec / 1_000_000)
    return String(base.dropLast()) + "." + (ms < 10 ? "00" : ms < 100 ? "0" : "") + String(ms) + "Z"
  }

  static func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
  }

  static func isLoopback(_ host: String) -> Bool {
    host == "localhost" || host == "::1" || host.hasPrefix("127.")
  }

  func run() async throws {
    // The same handler as `sendplan run`: text or JSON Lines, addresses masked.
    let level = Logger.Level(rawValue: logLevel) ?? .info
    let format = LogFormat(rawValue: logFormat) ?? .text
    LoggingSystem.bootstrap { _ in
      LineLogHandler(
        level: level, format: format, redactor: Redactor(mode: .mask), sink: LineLogHandler.standardError,
        timestamp: Serve.timestamp)
    }
    let logger = Logger(label: "sendplan-serve")
    let mode: AuthMode
    if auth == "token", let tokens {
      guard let text = WholeFile.text(tokens) else { throw fail(logger, "cannot read --tokens \(tokens)") }
      do {
        mode = .tokens(try TokenTable.parse(text))
      } catch {
        throw fail(logger, "--tokens \(tokens): \(error.message)")
      }
    } else {
      mode = .trustedHeader
    }
    var adminToken: String?
    if let adminTokenFile {
      guard let t = WholeFile.text(adminTokenFile)?.split(separator: "\n").first, t.count >= 16 else {
        throw fail(logger, "--admin-token-file must hold a token of 16 characters or more")
      }
      adminToken = String(t)
    }
    var settings = ServiceSettings(
      bundlePath: input, auditDir: auditDir, outDir: out, signingKeyPath: signingKey,
      now: {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(seconds: Int64(ts.tv_sec))
      },
      runSuffix: {
        var g = SystemRandomNumberGenerator()
        return String(g.next() as UInt64, radix: 16)
      })
    if let bytes = maxRecordBytes.flatMap(ServiceSettings.parseRecordBytes) { settings.maxRecordBytes = bytes }
    let service = SendplanService(settings: settings, logger: logger)
    switch service.reload() {
    case .success(let n): logger.info("bundle loaded", metadata: ["tenants": .stringConvertible(n)])
    case .failure(let e):
      for x in e.errors.prefix(20) { logger.error("\(x)") }
      throw fail(logger, "the bundle \(input) has errors; not starting")
    }
    signal(SIGHUP, SIG_IGN)
    let hup = DispatchSource.makeSignalSource(signal: SIGHUP)
    hup.setEventHandler {
      switch service.reload() {
      case .success(let n): logger.info("SIGHUP: bundle reloaded", metadata: ["tenants": .stringConvertible(n)])
      case .failure(let e):
        for x in e.errors.prefix(20) { logger.error("SIGHUP reload: \(x)") }
        logger.error("SIGHUP reload failed; still serving the previous bundle")
      }
    }
    hup.resume()
    let app = Application(
      router: makeRouter(
        service: service, auth: mode, adminToken: adminToken, logger: logger, clock: { Serve.monotonicSeconds() }),
      configuration: .init(address: .hostname(host, port: port), serverName: "sendplan"),
      logger: logger)
    try await app.runService()
    hup.cancel()
  }

  func fail(_ logger: Logger, _ message: String) -> ExitCode {
    logger.error("\(message)")
    return ExitCode(65)
  }
}
