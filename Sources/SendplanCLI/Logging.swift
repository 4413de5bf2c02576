import ArgumentParser
import Crypto
import Logging
import SendplanFileSystem
import SendplanLogging
import SendplanModel

#if canImport(Glibc)
  import Glibc
#endif

extension LogFormat: ExpressibleByArgument {}
extension Redaction: ExpressibleByArgument {}
extension Logger.Level: @retroactive ExpressibleByArgument {}

/// Options every logging command shares.
struct LogOptions: ParsableArguments {
  @Option(name: .customLong("log-format"), help: "Log lines on stderr: text or json (JSON Lines).")
  var format: LogFormat = .text

  @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
  var level: Logger.Level = .info

  @Option(
    name: .customLong("log-redaction"),
    help: "E-mail addresses in logs: mask, hash (keyed; needs --log-hash-key or SENDPLAN_LOG_HASH_KEY) or none.")
  var redaction: Redaction = .mask

  @Option(
    name: .customLong("log-hash-key"),
    help: "File with the secret (16 bytes or more) for --log-redaction hash.")
  var hashKey: String?

  /// The key for `hash` mode: the file, else the environment variable. Only the CLI reads either.
  func redactor() throws -> Redactor {
    guard redaction == .hash else { return Redactor(mode: redaction) }
    var key: [UInt8]?
    if let hashKey {
      guard let text = WholeFile.text(hashKey) else {
        throw ValidationError("--log-hash-key \(hashKey.debugDescription) cannot be read")
      }
      key = Array(text.utf8)
    } else if let env = getenv("SENDPLAN_LOG_HASH_KEY") {
      key = Array(String(cString: env).utf8)
    }
    guard let key, key.count >= 16 else {
      throw ValidationError(
        "--log-redaction hash needs a secret of 16 bytes or more in --log-hash-key FILE or SENDPLAN_LOG_HASH_KEY; "
          + "create one with: head -c 32 /dev/urandom | base64 > /etc/sendplan/log-hash.key")
    }
    return Redactor(mode: .hash, key: key)
  }

  func logger(console: Console, quiet: Bool) throws -> Logger {
    let r = try redactor()
    let level = quiet ? max(self.level, .warning) : self.level
    return Logger(label: "sendplan") { _ in
      LineLogHandler(
        level: level, format: format, redactor: r, sink: { console.err($0) }, timestamp: wallClockRFC3339)
    }
  }
}

/// The handler the executable installs for any logger made without options.
package enum SendplanLogging {
  package static func defaultHandler(label: String) -> any LogHandler {
    LineLogHandler(
      level: .info, format: .text, redactor: Redactor(mode: .mask), sink: LineLogHandler.standardError,
      timestamp: wallClockRFC3339)
  }
}
