import Crypto
import Foundation
import SendplanAudit
import SendplanTestSupport
import Testing

/// Every kind of damage to a sealed stream is found, named and located.
@Suite struct AuditTamperTests {
  @Test func cleanStreamsVerify() throws {
    let f = try AuditFixture()
    let r = try f.verify()
    #expect(r.valid, "\(r.text)")
    #expect(r.text.contains("Results: 4/4 runs valid, 0 records modified"))
    #expect(r.report.runsTotal == 4 && r.report.runsValid == 4 && r.report.streams == 2)
  }

  @Test func auditHoldsNoEmailAddress() throws {
    let f = try AuditFixture(runs: 1)
    let emails = try String(contentsOfFile: sampleBundle + "/recipients.csv", encoding: .utf8)
      .split(separator: "\n").dropFirst().compactMap { $0.split(separator: ",").first { $0.contains("@") } }
    #expect(!emails.isEmpty)
    for (_, data) in try tree(URL(fileURLWithPath: f.audit)) {
      let text = String(decoding: data, as: UTF8.self)
      for e in emails where e.count > 3 { #expect(!text.contains(e), "found \(e)") }
    }
  }

  @Test func flippedByteInSealedRecord() throws {
    let f = try AuditFixture()
    let seg = f.stream("acme") + "/00000001.log"
    var lines = try f.lines(seg)
    lines[3] = lines[3].replacingOccurrences(of: "\"s\":1", with: "\"s\":2")
    try f.write(seg, lines)
    let r = try f.verify()
    #expect(!r.valid)
    #expect(r.text.contains("00000001.log:4") && r.text.contains("[record_modified]"), "\(r.text)")
    #expect(r.text.contains("1 records modified"))
    #expect(r.report.problems.contains { $0.path.hasSuffix("00000001.log:4") && $0.code == "record_modified" })
  }

  @Test func deletedRecord() throws {
    let f = try AuditFixture()
    let seg = f.stream("acme") + "/00000001.log"
    var lines = try f.lines(seg)
    lines.remove(at: 5)
    try f.write(seg, lines)
    let r = try f.verify()
    #expect(!r.valid)
    #expect(
      r.text.contains("00000001.log:6") && r.text.contains("a record was deleted, inserted or moved"), "\(r.text)")
  }

  @Test func reorderedRecords() throws {
    let f = try AuditFixture()
    let seg = f.stream("acme") + "/00000001.log"
    var lines = try f.lines(seg)
    lines.swapAt(4, 5)
    try f.write(seg, lines)
    let r = try f.verify()
    #expect(!r.valid)
    #expect(r.text.contains("00000001.log:5") && r.text.contains("[record_invalid]"), "\(r.text)")
  }

  @Test func insertedRecordWithRecomputedChain() throws {
    let f = try AuditFixture()
    let seg = f.stream("acme") + "/00000001.log"
    var lines = try f.lines(seg)
    lines.insert(lines[2], at: 3)
    try f.write(seg, rechain(lines, firstSeq: 0, prev: [UInt8](repeating: 0, count: 32)))
    let r = try f.verify()
    #expect(!r.valid)
    #expect(r.text.contains("[segment_rewritten]"), "\(r.text)")
    #expect(!r.text.contains("[record_modified]"), "the chain itself is consistent: \(r.text)")
  }

  @Test func cleanTruncationAtRecordBoundary() throws {
    let f = try AuditFixture()
    let seg = f.stream("acme") + "/00000002.log"
    var lines = try f.lines(seg)
    lines.removeLast(3)
    try f.write(seg, lines + [""])
    let r = try f.verify()
    #expect(!r.valid)
    #expect(r.text.contains("[segment_truncated]") && r.text.contains("records removed from the end"), "\(r.text)")
  }

  @Test(arguments: [
    ("00000001.log", "segment_missing"), ("00000001.manifest.json", "manifest_missing"),
    ("00000002.checkpoint", "checkpoint_missing"),
  ])
  func deletedFile(name: String, code: String) throws {
    let f = try AuditFixture()
    try FileManager.default.removeItem(atPath: f.stream("acme") + "/" + name)
    let r = try f.verify()
    #expect(!r.valid)
    #expect(r.text.contains("[\(code)]"), "\(r.text)")
  }

  @Test func checkpointRolledBack() throws {
    let f = try AuditFixture()
    let s = f.stream("acme")
    try FileManager.default.removeItem(atPath: s + "/00000002.checkpoint")
    try FileManager.default.copyItem(atPath: s + "/00000001.checkpoint", toPath: s + "/00000002.checkpoint")
    let r = try f.verify()
    #expect(!r.valid)
    #expect(r.text.contains("[checkpoint_rolled_back]"), "\(r.text)")
  }

  @Test func badSignatureAndWrongKey() throws {
    let f = try AuditFixture()
    let cp = f.stream("globex") + "/00000001.checkpoint"
    var lines = try f.lines(cp)
    var sig = Array(lines[9])
    sig[sig.count - 5] = sig[sig.count - 5] == "A" ? "B" : "A"
    lines[9] = String(sig)
    try f.write(cp, lines)
    let r = try f.verify()
    #expect(!r.valid)
    #expect(r.text.contains("[bad_signature]"), "\(r.text)")

    let g = try AuditFixture(runs: 1)
    let w = try g.verify(publicKey: Curve25519.Signing.PrivateKey().publicKey)
    #expect(!w.valid)
    #expect(w.text.contains("[wrong_key]"), "\(w.text)")
  }

  @Test func segmentCopiedFromAnotherTenant() throws {
    let f = try AuditFixture()
    let target = f.stream("globex") + "/00000002.log"
    try FileManager.default.removeItem(atPath: target)
    try FileManager.default.copyItem(atPath: f.stream("acme") + "/00000002.log", toPath: target)
    let r = try f.verify()
    #expect(!r.valid)
    #expect(r.text.contains("belongs to customer \"acme\""), "\(r.text)")
  }

  /// An unsigned run seals its streams all the same; verify says so, and a public key then finds no signature.
  @Test func unsignedStreamsVerifyWithANote() throws {
    let f = try AuditFixture(runs: 0, signed: false)
    let summary = try f.run(day: 1)
    #expect(!summary.signed && summary.streams.count == 2)
    let v = try f.verify()
    #expect(v.valid && v.text.contains("is unsigned"), "\(v.text)")
    let keyed = try f.verify(publicKey: Curve25519.Signing.PrivateKey().publicKey)
    #expect(!keyed.valid && keyed.text.contains("[unsigned]"), "\(keyed.text)")
  }
}
