import Logging
import SendplanLogging
import Synchronization
import Testing

/// Collects the lines a handler writes.
final class Lines: Sendable {
  let all = Mutex<[String]>([])

  /// A logger at `level` writing `format` lines here, masking addresses unless told otherwise.
  func logger(
    _ format: LogFormat, level: Logger.Level = .info, redaction: Redaction = .mask, metadata: Logger.Metadata = [:]
  ) -> Logger {
    var handler = LineLogHandler(
      level: level, format: format, redactor: Redactor(mode: redaction, key: Array("0123456789abcdef".utf8)),
      sink: { line in self.all.withLock { $0.append(line) } }, timestamp: { "2026-11-27T02:00:00.000Z" })
    handler.metadata = metadata
    return Logger(label: "test") { _ in handler }
  }

  var text: [String] { all.withLock { $0 } }
}

@Suite struct LineLogHandlerTests {
  @Test(arguments: [
    (Logger.Level.trace, "debug: "), (.debug, "debug: "), (.info, "sendplan: "), (.notice, "sendplan: "),
    (.warning, "warning: "), (.error, "error: "), (.critical, "error: "),
  ])
  func textLinesStartWithTheirLevel(_ level: Logger.Level, _ prefix: String) {
    let lines = Lines()
    lines.logger(.text, level: .trace).log(level: level, "hello")
    #expect(lines.text == [prefix + "hello"])
  }

  @Test func textLinesCarrySortedMetadataQuotedWhenNeeded() {
    let lines = Lines()
    let log = lines.logger(.text, metadata: ["runId": "run-1"])
    log.info(
      "tenant planned",
      metadata: [
        "items": .stringConvertible(50), "customerId": "acme", "note": "two words", "empty": "",
        "list": .array(["a", "b"]), "email": "grace@example.com",
      ])
    #expect(
      lines.text == [
        #"sendplan: tenant planned customerId=acme email=***@*** empty="" items=50 list=[a,b] note="two words" runId=run-1"#
      ])
  }

  @Test func jsonLinesAreObjectsWithTypedValuesAndTheirOwnTimestamp() {
    let lines = Lines()
    let log = lines.logger(.json, metadata: ["runId": "run-1"])
    log.warning(
      "dry run planned",
      metadata: [
        "items": .stringConvertible(25), "seconds": .stringConvertible(0.5), "signed": .stringConvertible(true),
        "customerId": "acme", "errors": .array(["identity_missing"]), "nested": .dictionary(["b": "x", "a": "y"]),
        "email": "grace@example.com", "level": "ignored", "msg": "ignored", "ts": "ignored",
      ])
    #expect(
      lines.text == [
        #"{"level":"warning","msg":"dry run planned","customerId":"acme","email":"***@***","errors":["identity_missing"],"#
          + #""items":25,"nested":{"a":"y","b":"x"},"runId":"run-1","seconds":0.5,"signed":true,"#
          + #""ts":"2026-11-27T02:00:00.000Z"}"#
      ])
  }

  @Test(arguments: LogFormat.allCases)
  func addressesAreRedactedInMessagesAndValues(_ format: LogFormat) {
    for redaction in Redaction.allCases {
      let lines = Lines()
      lines.logger(format, redaction: redaction).error(
        "invalid email \"ada@example.com\" (row 3)",
        metadata: ["value": "x ada@example.com", "email": "ada@example.com"])
      let line = lines.text.joined()
      #expect(line.contains("ada@example.com") == (redaction == .none), "\(redaction): \(line)")
      if redaction == .hash { #expect(line.contains("email:")) }
    }
  }

  @Test func eventsBelowTheLevelAreDropped() {
    let lines = Lines()
    let log = lines.logger(.text, level: .warning)
    log.info("quiet")
    log.debug("quieter")
    log.warning("loud")
    #expect(lines.text == ["warning: loud"])
  }
}
