import Crypto
import Logging
import SendplanJSON
import SendplanModel

#if canImport(Glibc)
  import Glibc
#endif

/// How log lines look on stderr.
package enum LogFormat: String, CaseIterable, Sendable {
  /// One human-readable line per event: a level prefix, the message and `key=value` pairs.
  case text
  /// JSON Lines: one object per event with `ts`, `level`, `msg` and the metadata as members.
  case json
}

/// What happens to e-mail addresses on their way into a log line.
package enum Redaction: String, CaseIterable, Sendable {
  /// Replaced by `***@***`.
  case mask
  /// Replaced by `email:` and 16 hex digits of HMAC-SHA-256 under the operator's key, so the same
  /// address gives the same token across runs without being readable.
  case hash
  /// Left as they are (for debugging on a trusted machine only).
  case none
}

/// Finds e-mail addresses in log text and replaces them.
///
/// Addresses that sendplan logs on purpose go through `email(_:)`. Everything else (messages, error
/// text quoting an input value) is swept by `scrub(_:)`: any run of characters between delimiters
/// that contains `@` is treated as an address. Over-redacting an `@` is the safe way to be wrong.
package struct Redactor: Sendable {
  package let mode: Redaction
  let key: [UInt8]?

  package init(mode: Redaction, key: [UInt8]? = nil) {
    self.mode = mode
    self.key = key
  }

  /// An address as this mode shows it.
  package func email(_ address: String) -> String {
    switch mode {
    case .none: return address
    case .mask: return "***@***"
    case .hash:
      let normalized = Array(address.lowercased().utf8)
      guard let key else { return "***@***" }
      let mac = HMAC<SHA256>.authenticationCode(for: normalized, using: SymmetricKey(data: key))
      return "email:" + Hex.encode(Array(mac).prefix(8))
    }
  }

  /// `text` with every word containing `@` redacted.
  package func scrub(_ text: String) -> String {
    guard mode != .none, text.utf8.contains(0x40) else { return text }
    var out = ""
    var token = ""
    func flush() {
      // Byte tests: `String.contains(_:)` with a string argument resolves to Foundation's
      // `range(of:)`, which was most of the cost of a line per enrollment.
      out += token.utf8.contains(0x40) ? email(token) : token
      token = ""
    }
    for ch in text {
      if Redactor.delimiters.contains(ch) {
        flush()
        out.append(ch)
      } else {
        token.append(ch)
      }
    }
    flush()
    return out
  }

  static let delimiters: Set<Character> = [
    " ", "\t", "\n", "\r", "\"", "'", "`", "<", ">", "(", ")", "[", "]", "{", "}", ",", ";", "=",
  ]
}

/// Writes swift-log events as text or JSON Lines, one line per event, redacting addresses.
/// `sink` receives each finished line without its newline.
package struct LineLogHandler: LogHandler {
  package var metadata: Logger.Metadata = [:]
  package var logLevel: Logger.Level
  let format: LogFormat
  let redactor: Redactor
  let sink: @Sendable (String) -> Void
  /// The `ts` of JSON lines; the caller owns the clock.
  let timestamp: @Sendable () -> String

  package init(
    level: Logger.Level, format: LogFormat, redactor: Redactor, sink: @escaping @Sendable (String) -> Void,
    timestamp: @escaping @Sendable () -> String
  ) {
    self.logLevel = level
    self.format = format
    self.redactor = redactor
    self.sink = sink
    self.timestamp = timestamp
  }

  /// A sink writing each line to standard error with one write(2), so lines from threads never mix.
  package static let standardError: @Sendable (String) -> Void = { line in
    var text = line + "\n"
    text.withUTF8 { p in _ = Glibc.write(2, p.baseAddress, p.count) }
  }

  package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { metadata[key] }
    set { metadata[key] = newValue }
  }

  package func log(event: LogEvent) {
    var all = metadata
    if let m = event.metadata { all.merge(m) { _, new in new } }
    let message = redactor.scrub(event.message.description)
    let keys = all.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    switch format {
    case .text:
      var line = LineLogHandler.prefix(event.level) + message
      for k in keys {
        guard let v = all[k] else { continue }
        let text = value(k, v)
        line += " \(k)=" + (text.utf8.contains(0x20) || text.isEmpty ? text.debugDescription : text)
      }
      sink(line)
    case .json:
      var out = JSONBytes(capacity: 256)
      out.raw("{\"level\":")
      out.string(event.level.rawValue)
      out.raw(",\"msg\":")
      out.string(message)
      for k in keys where k != "level" && k != "msg" && k != "ts" {
        guard let v = all[k] else { continue }
        out.raw(",")
        out.string(k)
        out.raw(":")
        if k == "email" { out.string(value(k, v)) } else { write(v, to: &out) }
      }
      out.raw(",\"ts\":")
      out.string(timestamp())
      out.raw("}")
      sink(String(decoding: out.bytes, as: UTF8.self))
    }
  }

  /// A metadata value as redacted text; a member named `email` always holds an address.
  func value(_ key: String, _ v: Logger.Metadata.Value) -> String {
    let text = LineLogHandler.text(v)
    return key == "email" ? redactor.email(text) : redactor.scrub(text)
  }

  static func prefix(_ level: Logger.Level) -> String {
    switch level {
    case .trace, .debug: return "debug: "
    case .info, .notice: return "sendplan: "
    case .warning: return "warning: "
    case .error, .critical: return "error: "
    }
  }

  static func text(_ v: Logger.Metadata.Value) -> String {
    switch v {
    case .string(let s): return s
    case .stringConvertible(let c): return c.description
    case .array(let a): return "[" + a.map(text).joined(separator: ",") + "]"
    case .dictionary(let d):
      return "{" + d.keys.sorted().map { "\($0):\(d[$0].map(text) ?? "")" }.joined(separator: ",") + "}"
    }
  }

  /// Writes a metadata value as JSON: integers, doubles and booleans as themselves, text redacted.
  func write(_ v: Logger.Metadata.Value, to out: inout JSONBytes) {
    switch v {
    case .string(let s): out.string(redactor.scrub(s))
    case .stringConvertible(let c):
      if c is Int || c is Int64 || c is Int32 || c is UInt64 {
        out.raw(c.description)
      } else if let d = c as? Double {
        out.raw(d.isFinite ? String(d) : "null")
      } else if let b = c as? Bool {
        out.raw(b ? "true" : "false")
      } else {
        out.string(redactor.scrub(c.description))
      }
    case .array(let a):
      out.raw("[")
      for (i, x) in a.enumerated() {
        if i > 0 { out.raw(",") }
        write(x, to: &out)
      }
      out.raw("]")
    case .dictionary(let d):
      out.raw("{")
      for (i, k) in d.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }).enumerated() {
        if i > 0 { out.raw(",") }
        out.string(k)
        out.raw(":")
        if let x = d[k] { write(x, to: &out) } else { out.raw("null") }
      }
      out.raw("}")
    }
  }
}
