import Foundation
import SendplanAudit
import SendplanTestSupport
import Testing

/// Runs over time: what a rolled-back or rewritten history looks like, and what each commit leaves behind.
@Suite struct AuditHistoryTests {
  @Test func wholeStreamRolledBackIsCaughtByATrustedCheckpoint() throws {
    let f = try AuditFixture(runs: 1)
    let s = f.stream("acme")
    let saved = f.root.appendingPathComponent("day1").path
    try FileManager.default.copyItem(atPath: s, toPath: saved)
    try f.run(day: 2)
    let trusted = f.root.appendingPathComponent("trusted.checkpoint").path
    try FileManager.default.copyItem(atPath: s + "/00000002.checkpoint", toPath: trusted)
    // Put the day-1 state back, as someone hiding day 2 would.
    try FileManager.default.removeItem(atPath: s)
    try FileManager.default.copyItem(atPath: saved, toPath: s)
    #expect(try f.verify().valid, "without outside knowledge the older state is self-consistent")
    let r = try f.verify(trusted: [trusted])
    #expect(!r.valid)
    #expect(r.text.contains("[rollback]") && r.text.contains("rolled back"), "\(r.text)")
    // And a rewritten history of the same length is caught too.
    try f.run(day: 3)
    let ok = try f.verify(trusted: [trusted])
    #expect(!ok.valid && ok.text.contains("[trusted_checkpoint_mismatch]"), "\(ok.text)")
  }

  @Test func headRolledBack() throws {
    let f = try AuditFixture(runs: 1)
    let s = f.stream("acme")
    let oldHead = try Data(contentsOf: URL(fileURLWithPath: s + "/head.json"))
    try f.run(day: 2)
    try oldHead.write(to: URL(fileURLWithPath: s + "/head.json"))
    let r = try f.verify()
    #expect(!r.valid)
    #expect(r.text.contains("[head_rolled_back]"), "\(r.text)")
  }

  /// The commit swaps the new head in, so the previous head stays behind as `head.json.tmp` and the
  /// next run overwrites it: no inode is freed per stream and night (see `FS.rename(_:_:keepingOld:faults:)`).
  @Test func commitKeepsThePreviousHeadAsTheNextRunsScratchFile() throws {
    let f = try AuditFixture(runs: 1)
    let s = f.stream("acme")
    let fm = FileManager.default
    #expect(!fm.fileExists(atPath: s + "/head.json.tmp"), "the first commit has nothing to swap with")
    let inode = { (p: String) in (try? fm.attributesOfItem(atPath: p)[.systemFileNumber] as? Int) ?? -1 }
    let first = inode(s + "/head.json")
    try f.run(day: 2)
    #expect(inode(s + "/head.json.tmp") == first)
    let previous = try String(contentsOfFile: s + "/head.json.tmp", encoding: .utf8)
    #expect(previous.contains("\"segment\": 1,"), "\(previous)")
    try f.run(day: 3)
    #expect(inode(s + "/head.json") == first, "the two inodes take turns")
    let v = try f.verify()
    #expect(v.valid, "\(v.text)")
  }

  /// A crash while the next head was being written leaves a cut-off `head.json.tmp`; `head.json` still decides.
  @Test func cutOffPendingHeadIsIgnored() throws {
    let f = try AuditFixture(runs: 2)
    let s = f.stream("acme")
    try Data("{\"customerId\":\"ac".utf8).write(to: URL(fileURLWithPath: s + "/head.json.tmp"))
    #expect(try f.verify().valid)
    try f.run(day: 3)
    let v = try f.verify()
    #expect(v.valid, "\(v.text)")
    #expect(v.text.contains("Results: 6/6 runs valid"), "\(v.text)")
  }

  /// A second run of the same run id finds every stream sealed and appends nothing.
  @Test func aSealedRunIsNotAppendedTwice() throws {
    let f = try AuditFixture(runs: 1)
    let before = try tree(URL(fileURLWithPath: f.audit))
    let again = try f.run(day: 1)
    #expect(again.alreadySealed == 2 && again.streams.isEmpty && again.eventsAppended == 0)
    #expect(try tree(URL(fileURLWithPath: f.audit)) == before)
  }
}
