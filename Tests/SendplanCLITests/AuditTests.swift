import Crypto
import Foundation
import SendplanAudit
import SendplanCLI
import SendplanFileSystem
import SendplanTestSupport
import Testing

/// An audit folder with two sealed, signed runs of the sample bundle (as of day 1 and day 2).
struct AuditFixture {
  let root: URL
  let audit: String
  let key: String
  let out: String

  init(runs: Int = 2) throws {
    root = try tempDir("audit")
    audit = root.appendingPathComponent("audit").path
    key = root.appendingPathComponent("key").path
    out = root.appendingPathComponent("out").path
    #expect(sendplan(["audit", "keygen", "--out", key]).code == 0)
    for day in 0..<runs { try run(day: day + 1) }
  }

  @discardableResult
  func run(day: Int, extra: [String] = [], expect code: Int32 = 0) throws -> (code: Int32, out: String, err: String) {
    let r = sendplan(
      [
        "run", "--input", sampleBundle, "--out", out, "--as-of", "2026-11-\(26 + day)T02:00:00Z", "--audit-dir", audit,
        "--signing-key", key, "--no-fsync", "--quiet",
      ] + extra)
    #expect(r.code == code, "\(r.err)")
    return r
  }

  func stream(_ customer: String) -> String {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: audit + "/streams")) ?? []
    return audit + "/streams/" + (names.first { $0.hasPrefix(customer + "-") } ?? "?")
  }

  func verify(_ extra: [String] = []) -> (code: Int32, out: String, err: String) {
    sendplan(["audit", "verify", "--audit-dir", audit, "--public-key", key + ".pub"] + extra)
  }

  func lines(_ path: String) throws -> [String] {
    try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
      .map(String.init)
  }

  func write(_ path: String, _ lines: [String]) throws {
    try lines.joined(separator: "\n").write(toFile: path, atomically: false, encoding: .utf8)
  }
}

/// Re-hashes a segment's lines from `prev` the way docs/audit.md describes, independently of sendplan's code.
func rechain(_ lines: [String], firstSeq: Int, prev: [UInt8]) -> [String] {
  var chain = prev
  var out: [String] = []
  for (i, line) in lines.enumerated() where !line.isEmpty {
    var body = String(line.dropLast(16)) + "}"
    if let r = body.range(of: #"^\{"n":[0-9]+,"#, options: .regularExpression) {
      body.replaceSubrange(r, with: "{\"n\":\(firstSeq + i),")
    }
    chain = Array(SHA256.hash(data: [0] + Array(body.utf8) + chain))
    let tag = chain.prefix(4).map { String(format: "%02x", $0) }.joined()
    out.append(String(body.dropLast()) + ",\"h\":\"" + tag + "\"}")
  }
  return out + [""]
}

@Suite struct AuditTests {
  @Test func cleanStreamsVerify() throws {
    let f = try AuditFixture()
    let r = f.verify()
    #expect(r.code == 0, "\(r.out)")
    #expect(r.out.contains("Results: 4/4 runs valid, 0 records modified"))
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
    let r = f.verify()
    #expect(r.code == 1)
    #expect(r.out.contains("00000001.log:4") && r.out.contains("[record_modified]"), "\(r.out)")
    #expect(r.out.contains("1 records modified"))
  }

  @Test func deletedRecord() throws {
    let f = try AuditFixture()
    let seg = f.stream("acme") + "/00000001.log"
    var lines = try f.lines(seg)
    lines.remove(at: 5)
    try f.write(seg, lines)
    let r = f.verify()
    #expect(r.code == 1)
    #expect(r.out.contains("00000001.log:6") && r.out.contains("a record was deleted, inserted or moved"), "\(r.out)")
  }

  @Test func reorderedRecords() throws {
    let f = try AuditFixture()
    let seg = f.stream("acme") + "/00000001.log"
    var lines = try f.lines(seg)
    lines.swapAt(4, 5)
    try f.write(seg, lines)
    let r = f.verify()
    #expect(r.code == 1)
    #expect(r.out.contains("00000001.log:5") && r.out.contains("[record_invalid]"), "\(r.out)")
  }

  @Test func insertedRecordWithRecomputedChain() throws {
    let f = try AuditFixture()
    let seg = f.stream("acme") + "/00000001.log"
    var lines = try f.lines(seg)
    lines.insert(lines[2], at: 3)
    try f.write(seg, rechain(lines, firstSeq: 0, prev: [UInt8](repeating: 0, count: 32)))
    let r = f.verify()
    #expect(r.code == 1)
    #expect(r.out.contains("[segment_rewritten]"), "\(r.out)")
    #expect(!r.out.contains("[record_modified]"), "the chain itself is consistent: \(r.out)")
  }

  @Test func cleanTruncationAtRecordBoundary() throws {
    let f = try AuditFixture()
    let seg = f.stream("acme") + "/00000002.log"
    var lines = try f.lines(seg)
    lines.removeLast(3)
    try f.write(seg, lines + [""])
    let r = f.verify()
    #expect(r.code == 1)
    #expect(r.out.contains("[segment_truncated]") && r.out.contains("records removed from the end"), "\(r.out)")
  }

  @Test(arguments: [
    ("00000001.log", "segment_missing"), ("00000001.manifest.json", "manifest_missing"),
    ("00000002.checkpoint", "checkpoint_missing"),
  ])
  func deletedFile(name: String, code: String) throws {
    let f = try AuditFixture()
    try FileManager.default.removeItem(atPath: f.stream("acme") + "/" + name)
    let r = f.verify()
    #expect(r.code == 1)
    #expect(r.out.contains("[\(code)]"), "\(r.out)")
  }

  @Test func checkpointRolledBack() throws {
    let f = try AuditFixture()
    let s = f.stream("acme")
    try FileManager.default.removeItem(atPath: s + "/00000002.checkpoint")
    try FileManager.default.copyItem(atPath: s + "/00000001.checkpoint", toPath: s + "/00000002.checkpoint")
    let r = f.verify()
    #expect(r.code == 1)
    #expect(r.out.contains("[checkpoint_rolled_back]"), "\(r.out)")
  }

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
    #expect(f.verify().code == 0, "without outside knowledge the older state is self-consistent")
    let r = f.verify(["--trusted-checkpoint", trusted])
    #expect(r.code == 1)
    #expect(r.out.contains("[rollback]") && r.out.contains("rolled back"), "\(r.out)")
    // And a rewritten history of the same length is caught too.
    try f.run(day: 3)
    let ok = f.verify(["--trusted-checkpoint", trusted])
    #expect(ok.code == 1 && ok.out.contains("[trusted_checkpoint_mismatch]"), "\(ok.out)")
  }

  @Test func headRolledBack() throws {
    let f = try AuditFixture(runs: 1)
    let s = f.stream("acme")
    let oldHead = try Data(contentsOf: URL(fileURLWithPath: s + "/head.json"))
    try f.run(day: 2)
    try oldHead.write(to: URL(fileURLWithPath: s + "/head.json"))
    let r = f.verify()
    #expect(r.code == 1)
    #expect(r.out.contains("[head_rolled_back]"), "\(r.out)")
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
    let v = f.verify()
    #expect(v.code == 0, "\(v.out)")
  }

  /// A crash while the next head was being written leaves a cut-off `head.json.tmp`; `head.json` still decides.
  @Test func cutOffPendingHeadIsIgnored() throws {
    let f = try AuditFixture(runs: 2)
    let s = f.stream("acme")
    try Data("{\"customerId\":\"ac".utf8).write(to: URL(fileURLWithPath: s + "/head.json.tmp"))
    #expect(f.verify().code == 0)
    try f.run(day: 3)
    let v = f.verify()
    #expect(v.code == 0, "\(v.out)")
    #expect(v.out.contains("Results: 6/6 runs valid"), "\(v.out)")
  }

  @Test func badSignatureAndWrongKey() throws {
    let f = try AuditFixture()
    let cp = f.stream("globex") + "/00000001.checkpoint"
    var lines = try f.lines(cp)
    var sig = Array(lines[9])
    sig[sig.count - 5] = sig[sig.count - 5] == "A" ? "B" : "A"
    lines[9] = String(sig)
    try f.write(cp, lines)
    let r = f.verify()
    #expect(r.code == 1)
    #expect(r.out.contains("[bad_signature]"), "\(r.out)")

    let g = try AuditFixture(runs: 1)
    let other = g.root.appendingPathComponent("other").path
    #expect(sendplan(["audit", "keygen", "--out", other]).code == 0)
    let w = sendplan(["audit", "verify", "--audit-dir", g.audit, "--public-key", other + ".pub"])
    #expect(w.code == 1)
    #expect(w.out.contains("[wrong_key]"), "\(w.out)")
  }

  @Test func segmentCopiedFromAnotherTenant() throws {
    let f = try AuditFixture()
    let target = f.stream("globex") + "/00000002.log"
    try FileManager.default.removeItem(atPath: target)
    try FileManager.default.copyItem(atPath: f.stream("acme") + "/00000002.log", toPath: target)
    let r = f.verify()
    #expect(r.code == 1)
    #expect(r.out.contains("belongs to customer \"acme\""), "\(r.out)")
  }

  @Test func rerunOfASealedRunIsANoOp() throws {
    let f = try AuditFixture(runs: 1)
    let before = try tree(URL(fileURLWithPath: f.audit))
    let r = sendplan([
      "run", "--input", sampleBundle, "--out", f.out, "--as-of", "2026-11-27T02:00:00Z", "--audit-dir", f.audit,
      "--signing-key", f.key, "--no-fsync",
    ])
    #expect(r.code == 0)
    #expect(r.err.contains("already sealed for every tenant") && r.err.contains("no-op"), "\(r.err)")
    #expect(try tree(URL(fileURLWithPath: f.audit)) == before)
  }

  @Test func unsignedRunSaysSo() throws {
    let root = try tempDir("unsigned")
    let r = sendplan([
      "run", "--input", sampleBundle, "--out", root.path + "/out", "--as-of", sampleAsOf, "--audit-dir",
      root.path + "/audit", "--no-fsync",
    ])
    #expect(r.code == 0)
    #expect(r.err.contains("UNSIGNED"), "\(r.err)")
    let v = sendplan(["audit", "verify", "--audit-dir", root.path + "/audit"])
    #expect(v.code == 0 && v.out.contains("is unsigned"), "\(v.out)")
  }

  @Test func secondRunIsRefusedByTheLock() throws {
    let f = try AuditFixture(runs: 1)
    let lock = try AuditLock(auditDir: f.audit)
    let r = try f.run(day: 2, expect: 75)
    #expect(r.err.contains("holds the audit lock"), "\(r.err)")
    _ = lock
  }

  /// Every event id of a run, via export.
  func eventIDs(_ audit: String, _ customer: String, in root: URL) throws -> [String] {
    let tarPath = root.appendingPathComponent("export-\(UUID().uuidString).tar").path
    #expect(sendplan(["audit", "export", "--audit-dir", audit, "--customer-id", customer, "--out", tarPath]).code == 0)
    let data = try [UInt8](Data(contentsOf: URL(fileURLWithPath: tarPath)))
    // entries.jsonl is the second member.
    let readmeSize = Int(String(decoding: data[124..<135], as: UTF8.self), radix: 8) ?? 0
    let second = 512 + (readmeSize + 511) / 512 * 512
    let size = Int(String(decoding: data[(second + 124)..<(second + 135)], as: UTF8.self), radix: 8) ?? 0
    let body = String(decoding: data[(second + 512)..<(second + 512 + size)], as: UTF8.self)
    return body.split(separator: "\n").compactMap {
      (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["id"] as? String
    }
  }

  @Test func diskFullAbortsUnsealedAndTheNextRunRecovers() throws {
    let reference = try AuditFixture(runs: 1)
    let expected = try eventIDs(reference.audit, "acme", in: reference.root)
    // Every durability step: segment writes (on the background writer), seal files, syncs and the
    // head swaps.
    let r = try AuditFixture(runs: 0).run(day: 1, extra: ["--debug-count-steps"])
    let steps = Int(r.err.components(separatedBy: "debug: ").last?.components(separatedBy: " ").first ?? "") ?? 0
    #expect(steps > 8, "\(r.err)")
    for failAt in 1...max(1, steps) {
      let f = try AuditFixture(runs: 0)
      let r = try f.run(day: 1, extra: ["--debug-fail-at", String(failAt)], expect: 74)
      #expect(r.err.contains("No space left on device"), "\(r.err)")
      #expect(!FileManager.default.fileExists(atPath: f.out), "OUT must not be published")
      try f.run(day: 1)
      #expect(f.verify().code == 0)
      let ids = try eventIDs(f.audit, "acme", in: f.root)
      #expect(ids == expected, "fail at \(failAt)")
    }
  }

  /// The step of the first file-system sync in `commit`: every segment and seal file is written, nothing committed.
  func precommitStep() throws -> Int {
    let f = try AuditFixture(runs: 0)
    let r = try f.run(day: 1, extra: ["--debug-count-steps"])
    let n = Int(r.err.components(separatedBy: "debug: ").last?.components(separatedBy: " ").first ?? "") ?? 0
    #expect(n > 8, "\(r.err)")
    return n - 7
  }

  @Test func tornTailIsQuarantinedAndTheRunCompleted() throws {
    let reference = try AuditFixture(runs: 1)
    let expected = try eventIDs(reference.audit, "acme", in: reference.root)
    let f = try AuditFixture(runs: 0)
    try f.run(day: 1, extra: ["--debug-fail-at", String(try precommitStep())], expect: 74)
    #expect(f.verify().out.contains("[segment_unsealed]"))
    let seg = f.stream("acme") + "/00000001.log"
    var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: seg)))
    bytes.removeLast(20)
    try Data(bytes).write(to: URL(fileURLWithPath: seg))
    let r = try f.run(day: 1)
    #expect(r.err.contains("moved a torn tail of"), "\(r.err)")
    let q = try FileManager.default.contentsOfDirectory(atPath: f.stream("acme") + "/quarantine")
    #expect(q.count == 1)
    let v = f.verify()
    #expect(v.code == 0, "\(v.out)")
    #expect(try eventIDs(f.audit, "acme", in: f.root) == expected)
  }

  @Test func interruptedRunUnderAnotherRunIDIsSealedAsIncomplete() throws {
    let f = try AuditFixture(runs: 0)
    try f.run(day: 1, extra: ["--debug-fail-at", String(try precommitStep())], expect: 74)
    let r = try f.run(day: 2)
    #expect(r.err.contains("interrupted run run-20261127T020000Z as incomplete"), "\(r.err)")
    let v = f.verify()
    #expect(v.code == 0, "\(v.out)")
    #expect(v.out.contains("sealed as incomplete") && v.out.contains("Results: 4/4 runs valid"), "\(v.out)")
    let manifest = try String(contentsOfFile: f.stream("acme") + "/00000001.manifest.json", encoding: .utf8)
    #expect(manifest.contains("\"complete\": false"))
  }

  @Test func midFileEditDisguisedAsTornTailIsRefused() throws {
    let f = try AuditFixture(runs: 0)
    try f.run(day: 1, extra: ["--debug-fail-at", String(try precommitStep())], expect: 74)
    let seg = f.stream("acme") + "/00000001.log"
    var lines = try f.lines(seg)
    #expect(lines.count > 8)
    // Cut a record in the middle short and glue it to the next: looks torn, but good records follow.
    lines[4] = String(lines[4].prefix(30)) + lines[5]
    lines.remove(at: 5)
    try f.write(seg, lines)
    let before = try Data(contentsOf: URL(fileURLWithPath: seg))
    let r = try f.run(day: 1, expect: 1)
    #expect(r.err.contains("not a torn write") && r.err.contains("00000001.log:5"), "\(r.err)")
    #expect(try Data(contentsOf: URL(fileURLWithPath: seg)) == before, "recovery must not truncate")

    // A sealed segment cut mid-record is refused as well.
    let g = try AuditFixture(runs: 1)
    let sealed = g.stream("acme") + "/00000001.log"
    var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: sealed)))
    bytes.removeLast(10)
    try Data(bytes).write(to: URL(fileURLWithPath: sealed))
    let s = try g.run(day: 2, expect: 1)
    #expect(s.err.contains("sealed_segment_changed") || s.err.contains("sealed segment 1"), "\(s.err)")
    #expect(g.verify().code == 1)
  }

  @Test func queryPagesThroughEveryEntry() throws {
    let f = try AuditFixture()
    let all = sendplan([
      "audit", "query", "--audit-dir", f.audit, "--customer-id", "acme", "--enrollment", "e01", "--limit", "1000",
    ])
    #expect(all.code == 0)
    let full = try JSONSerialization.jsonObject(with: Data(all.out.utf8)) as? [String: Any]
    let fullEntries = (full?["data"] as? [String: Any])?["entries"] as? [[String: Any]] ?? []
    #expect(fullEntries.count > 10)
    #expect(full?["nextCursor"] is NSNull)
    var cursor: String?
    var paged: [String] = []
    var pages = 0
    repeat {
      var args = [
        "audit", "query", "--audit-dir", f.audit, "--customer-id", "acme", "--enrollment", "e01", "--limit", "4",
      ]
      if let cursor { args += ["--cursor", cursor] }
      let r = sendplan(args)
      #expect(r.code == 0, "\(r.err)")
      let doc = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any]
      let entries = (doc?["data"] as? [String: Any])?["entries"] as? [[String: Any]] ?? []
      #expect(entries.count <= 4)
      paged += entries.compactMap { $0["id"] as? String }
      cursor = doc?["nextCursor"] as? String
      pages += 1
    } while cursor != nil && pages < 100
    #expect(paged == fullEntries.compactMap { $0["id"] as? String })
    #expect(Set(paged).count == paged.count)
    #expect(pages > 2)
    let first = fullEntries.first
    #expect(first?["eventType"] as? String == "dry_run_planned")
    #expect(first?["timestamp"] as? String == "2026-11-27T02:00:00Z")
    #expect(Set(fullEntries.compactMap { $0["runId"] as? String }).count == 2, "both nights, oldest first")
  }

  @Test func cursorIsBoundToTenantAndEnrollment() throws {
    let f = try AuditFixture(runs: 1)
    let r = sendplan([
      "audit", "query", "--audit-dir", f.audit, "--customer-id", "acme", "--enrollment", "e01", "--limit", "2",
    ])
    let doc = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any]
    let cursor = try #require(doc?["nextCursor"] as? String)
    for (customer, enrollment) in [("globex", "e01"), ("acme", "e02")] {
      let x = sendplan([
        "audit", "query", "--audit-dir", f.audit, "--customer-id", customer, "--enrollment", enrollment, "--cursor",
        cursor,
      ])
      #expect(x.code == 64, "\(x.err)")
      #expect(x.err.contains("bad_cursor"))
    }
    let limit = sendplan([
      "audit", "query", "--audit-dir", f.audit, "--customer-id", "acme", "--enrollment", "e01", "--limit", "1001",
    ])
    #expect(limit.code == 64)
  }

  @Test func unknownOrForeignEnrollmentIsNotFound() throws {
    let f = try AuditFixture(runs: 1)
    let unknown = sendplan([
      "audit", "query", "--audit-dir", f.audit, "--customer-id", "globex", "--enrollment", "no-such",
    ])
    // e02 exists for acme, not for globex: same answer as for an id nobody has.
    let foreign = sendplan([
      "audit", "query", "--audit-dir", f.audit, "--customer-id", "globex", "--enrollment", "e02",
    ])
    let stranger = sendplan([
      "audit", "query", "--audit-dir", f.audit, "--customer-id", "nobody", "--enrollment", "e02",
    ])
    for r in [unknown, foreign, stranger] {
      #expect(r.code == 66, "\(r.err)")
      #expect(r.err.contains("[enrollment_not_found]"))
    }
    #expect(
      foreign.err.replacingOccurrences(of: "e02", with: "X")
        == unknown.err.replacingOccurrences(of: "no-such", with: "X"))
  }

  @Test func exportIsSelfContainedAndVerifies() throws {
    let f = try AuditFixture()
    let tarPath = f.root.appendingPathComponent("acme.tar").path
    #expect(sendplan(["audit", "export", "--audit-dir", f.audit, "--customer-id", "acme", "--out", tarPath]).code == 0)
    let dest = f.root.appendingPathComponent("extracted")
    try FileManager.default.createDirectory(at: dest, withIntermediateDirectories: true)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/tar")
    p.arguments = ["-xf", tarPath, "-C", dest.path]
    try p.run()
    p.waitUntilExit()
    #expect(p.terminationStatus == 0)
    #expect(FileManager.default.fileExists(atPath: dest.path + "/README.txt"))
    let keys = try FileManager.default.contentsOfDirectory(atPath: dest.path + "/public-keys")
    #expect(keys.count == 1)
    let r = sendplan([
      "audit", "verify", "--audit-dir", dest.path, "--public-key", dest.path + "/public-keys/" + keys[0],
    ])
    #expect(r.code == 0, "\(r.out)")
    #expect(r.out.contains("2/2 runs valid"))
  }
}
