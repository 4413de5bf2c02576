import Foundation
import SendplanAudit
import SendplanDiagnostics
import SendplanModel
import SendplanTestSupport
import Testing

@Suite struct AuditLockTests {
  @Test func shardsShareTheAuditFolderButNotWithAWholeRun() throws {
    let dir = try scratchFolder("lock").path
    let a = try AuditLock(auditDir: dir, shard: Shard(index: 0, count: 2))
    let b = try AuditLock(auditDir: dir, shard: Shard(index: 1, count: 2))
    #expect(throws: SendplanError.self) { try AuditLock(auditDir: dir) }
    #expect(throws: SendplanError.self) { try AuditLock(auditDir: dir, shard: Shard(index: 0, count: 2)) }
    _ = (a, b)
  }

  /// A writer takes the folder's lock, so a second nightly run is refused until the first is done.
  @Test func aWriterHoldsTheLockUntilItIsGone() throws {
    let f = try AuditFixture(runs: 0)
    let asOf = try #require(Timestamp.parse("2026-11-27T02:00:00Z"))
    do {
      let first = try AuditWriter(root: f.audit, runID: runID(asOf), asOf: asOf, key: nil)
      let e = #expect(throws: SendplanError.self) {
        try AuditWriter(root: f.audit, runID: runID(asOf), asOf: asOf, key: nil)
      }
      #expect(e?.kind == .busy && e?.message.contains("holds the audit lock") == true, "\(String(describing: e))")
      _ = first
    }
    _ = try AuditWriter(root: f.audit, runID: runID(asOf), asOf: asOf, key: nil)
  }
}
