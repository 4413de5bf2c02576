import Foundation
import SendplanAudit
import SendplanDiagnostics
import SendplanModel
import Testing

/// Inputs of the `audit-folder` fuzz target (Tests/Fuzz) that trapped, replayed: one file of a
/// real two-run folder replaced, then the query that crashed.
@Suite struct FuzzRegressionTests {
  /// `.idx` entries whose byte length is negative (Array count < 0), huge (an allocation of
  /// Int64.max bytes) or past the segment's end. The query rebuilds an unusable index from the
  /// records, or refuses one that points outside the segment.
  @Test(arguments: ["-1", "0", "9223372036854775807", "1099511627776"])
  func indexLengthOutOfRange(_ length: String) throws {
    let f = try AuditFixture()
    let idx = f.stream("acme") + "/00000001.idx"
    let text = try String(contentsOfFile: idx, encoding: .utf8)
    let mutated = text.replacingOccurrences(of: #""l":[0-9]+"#, with: "\"l\":\(length)", options: .regularExpression)
    #expect(mutated != text)
    try mutated.write(toFile: idx, atomically: false, encoding: .utf8)
    do {
      let page = try AuditQuery.page(root: f.audit, customerID: ID("acme"), enrollmentID: "e01")
      #expect(!page.entries.isEmpty)
    } catch {
      #expect(error.kind == .badData && error.code == "audit_corrupt", "\(error)")
    }
  }

  /// Offsets and record numbers that are negative or make their sums overflow.
  @Test(arguments: [
    (#""o":[0-9]+"#, "\"o\":-1"), (#""n":[0-9]+"#, "\"n\":-9223372036854775808"),
    (#""n":[0-9]+"#, "\"n\":9223372036854775807"), (#""k":[0-9]+"#, "\"k\":9223372036854775807"),
  ])
  func indexNumbersOutOfRange(_ pattern: String, _ replacement: String) throws {
    let f = try AuditFixture()
    let idx = f.stream("acme") + "/00000001.idx"
    let text = try String(contentsOfFile: idx, encoding: .utf8)
    try text.replacingOccurrences(of: pattern, with: replacement, options: .regularExpression)
      .write(toFile: idx, atomically: false, encoding: .utf8)
    let page = try AuditQuery.page(root: f.audit, customerID: ID("acme"), enrollmentID: "e01")
    #expect(!page.entries.isEmpty)
  }
}
