import Foundation
import SendplanAudit
import SendplanDiagnostics
import SendplanFileSystem
import SendplanModel
import SendplanRun
import SendplanTestSupport
import Testing

/// Audited runs end to end: the lock, re-runs, and recovery from a run that did not finish.
@Suite struct AuditedRunTests {
  @Test func auditedRunSealsEveryTenantBeforePublishing() throws {
    let f = try AuditedRuns(runs: 0)
    let recorder = Recorder()
    let r = try f.run(day: 1, observer: recorder)
    #expect(
      recorder.names == ["bundleRead", "planning", "tenantFinished", "tenantFinished", "auditSealed", "published"])
    let audit = try #require(r.audit)
    #expect(audit.signed && audit.streams.map(\.customerID) == [ID("acme"), ID("globex")])
    #expect(audit.eventsAppended == 77 && audit.notices.isEmpty)
    #expect(r.tenants.allSatisfy { $0.audit != nil })
    #expect(try f.verify().valid)
  }

  @Test func rerunOfASealedRunIsANoOp() throws {
    let f = try AuditedRuns(runs: 1)
    let before = try tree(URL(fileURLWithPath: f.audit))
    let recorder = Recorder()
    let r = try f.run(day: 1, observer: recorder)
    // "already sealed for every tenant; nothing appended (no-op)"
    #expect(r.alreadySealed == 2 && r.audit?.streams.isEmpty == true && r.audit?.eventsAppended == 0)
    #expect(recorder.names.contains("auditSealed") && recorder.names.last == "published")
    #expect(try tree(URL(fileURLWithPath: f.audit)) == before)
  }

  @Test func secondRunIsRefusedByTheLock() throws {
    let f = try AuditedRuns(runs: 1)
    let out = try tree(URL(fileURLWithPath: f.out))
    let lock = try AuditLock(auditDir: f.audit)
    let e = f.failingRun(day: 2)
    #expect(e?.kind == .busy, "exit 75")
    #expect(e?.message.contains("holds the audit lock") == true, "\(String(describing: e))")
    #expect(try tree(URL(fileURLWithPath: f.out)) == out, "OUT is unchanged")
    _ = lock
  }

  @Test func diskFullAbortsUnsealedAndTheNextRunRecovers() throws {
    let reference = try AuditedRuns(runs: 1)
    let expected = try reference.eventIDs("acme")
    // Every durability step: segment writes (on the background writer), seal files, syncs and the
    // head swaps.
    let steps = try AuditedRuns.steps().all
    for failAt in 1...max(1, steps) {
      let f = try AuditedRuns(runs: 0)
      let e = f.failingRun(day: 1, faults: FaultPoints(failAt: failAt))
      #expect(e?.kind == .io, "exit 74 at step \(failAt)")
      #expect(e?.message.contains("No space left on device") == true, "\(String(describing: e))")
      #expect(!FileManager.default.fileExists(atPath: f.out), "OUT must not be published")
      try f.run(day: 1)
      #expect(try f.verify().valid)
      let ids = try f.eventIDs("acme")
      #expect(ids == expected, "fail at \(failAt)")
    }
  }

  @Test func tornTailIsQuarantinedAndTheRunCompleted() throws {
    let reference = try AuditedRuns(runs: 1)
    let expected = try reference.eventIDs("acme")
    let f = try AuditedRuns(runs: 0)
    #expect(f.failingRun(day: 1, faults: FaultPoints(failAt: try AuditedRuns.steps().precommit))?.kind == .io)
    #expect(try f.verify().problems.contains { $0.code == "segment_unsealed" })
    let seg = f.stream("acme") + "/00000001.log"
    var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: seg)))
    bytes.removeLast(20)
    try Data(bytes).write(to: URL(fileURLWithPath: seg))
    let r = try f.run(day: 1)
    let notices = r.audit?.notices ?? []
    #expect(notices.contains { $0.contains("moved a torn tail of") }, "\(notices)")
    let q = try FileManager.default.contentsOfDirectory(atPath: f.stream("acme") + "/quarantine")
    #expect(q.count == 1)
    let v = try f.verify()
    #expect(v.valid, "\(v.problems)")
    #expect(try f.eventIDs("acme") == expected)
  }

  /// A power cut can keep a sector of the unsealed segment from being written while later ones are:
  /// zeros mid-file, good records after them. That is torn, not edited (found by the power-loss test).
  @Test func unwrittenSectorInTheUnsealedSegmentIsQuarantinedAndTheRunCompleted() throws {
    let reference = try AuditedRuns(runs: 1)
    let expected = try reference.eventIDs("acme")
    let f = try AuditedRuns(runs: 0)
    #expect(f.failingRun(day: 1, faults: FaultPoints(failAt: try AuditedRuns.steps().precommit))?.kind == .io)
    let seg = f.stream("acme") + "/00000001.log"
    var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: seg)))
    let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
    #expect(lines.count > 6)
    let third = lines[0..<2].reduce(0) { $0 + $1.count + 1 }
    for i in third..<min(third + 64, bytes.count) { bytes[i] = 0 }
    try Data(bytes).write(to: URL(fileURLWithPath: seg))
    let r = try f.run(day: 1)
    #expect(r.failedTenants == 0, "\(r.tenants.compactMap(\.failure))")
    #expect((r.audit?.notices ?? []).contains { $0.contains("moved a torn tail of") && $0.contains("offset \(third)") })
    let v = try f.verify()
    #expect(v.valid, "\(v.problems)")
    #expect(try f.eventIDs("acme") == expected)
  }

  @Test func interruptedRunUnderAnotherRunIDIsSealedAsIncomplete() throws {
    let f = try AuditedRuns(runs: 0)
    #expect(f.failingRun(day: 1, faults: FaultPoints(failAt: try AuditedRuns.steps().precommit))?.kind == .io)
    let r = try f.run(day: 2)
    let notices = r.audit?.notices ?? []
    #expect(notices.contains { $0.contains("interrupted run run-20261127T020000Z as incomplete") }, "\(notices)")
    let v = try f.verify()
    #expect(v.valid, "\(v.problems)")
    #expect(v.notes.contains { $0.contains("sealed as incomplete") } && v.summary.contains("Results: 4/4 runs valid"))
    let manifest = try String(contentsOfFile: f.stream("acme") + "/00000001.manifest.json", encoding: .utf8)
    #expect(manifest.contains("\"complete\": false"))
  }

  @Test func midFileEditDisguisedAsTornTailIsRefused() throws {
    let f = try AuditedRuns(runs: 0)
    #expect(f.failingRun(day: 1, faults: FaultPoints(failAt: try AuditedRuns.steps().precommit))?.kind == .io)
    let seg = f.stream("acme") + "/00000001.log"
    var lines = try f.lines(seg)
    #expect(lines.count > 8)
    // Cut a record in the middle short and glue it to the next: looks torn, but good records follow.
    lines[4] = String(lines[4].prefix(30)) + lines[5]
    lines.remove(at: 5)
    try f.write(seg, lines)
    let before = try Data(contentsOf: URL(fileURLWithPath: seg))
    let r = try f.run(day: 1)
    #expect(r.failedTenants == 1, "exit 1")
    let issues = r.tenants.first { $0.customerID == ID("acme") }?.failure?.issues ?? []
    let text = issues.map { "\($0.file):\($0.line): \($0.message)" }.joined(separator: "\n")
    #expect(text.contains("not a torn write") && text.contains("00000001.log:5"), "\(text)")
    #expect(try Data(contentsOf: URL(fileURLWithPath: seg)) == before, "recovery must not truncate")

    // A sealed segment cut mid-record is refused as well.
    let g = try AuditedRuns(runs: 1)
    let sealed = g.stream("acme") + "/00000001.log"
    var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: sealed)))
    bytes.removeLast(10)
    try Data(bytes).write(to: URL(fileURLWithPath: sealed))
    let s = try g.run(day: 2)
    #expect(s.failedTenants == 1, "exit 1")
    let sealedIssues = s.tenants.compactMap(\.failure).flatMap(\.issues)
    #expect(
      sealedIssues.contains { $0.code == "sealed_segment_changed" || $0.message.contains("sealed segment 1") },
      "\(sealedIssues)")
    #expect(!(try g.verify().valid))
  }
}
