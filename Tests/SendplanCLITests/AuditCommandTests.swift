import Foundation
import SendplanAudit
import SendplanTestSupport
import Testing

/// An audit folder with sealed, signed runs of the sample bundle made by `sendplan run` (day n is as
/// of 2026-11-(26+n)T02:00:00Z). The audit behaviour itself is tested in SendplanAuditTests and
/// SendplanRunTests; here, what the commands print and exit with.
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
    let k = sendplan(["audit", "keygen", "--out", key])
    #expect(k.code == 0 && k.out.contains("key id"), "\(k.err)")
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
}

@Suite struct AuditCommandTests {
  @Test func verifyPrintsEachProblemAndTheResults() throws {
    let f = try AuditFixture()
    let clean = f.verify()
    #expect(clean.code == 0, "\(clean.out)")
    #expect(clean.out.contains("Results: 4/4 runs valid, 0 records modified"))
    let json = sendplan(["audit", "verify", "--audit-dir", f.audit, "--json"])
    let doc = try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any]
    #expect(json.code == 0 && doc?["valid"] as? Bool == true, "\(json.out)")
    let unkeyed = sendplan(["audit", "verify", "--audit-dir", f.audit])
    #expect(unkeyed.code == 0 && unkeyed.out.contains("pass --public-key to check who signed"))

    let seg = f.stream("acme") + "/00000001.log"
    var lines = try String(contentsOfFile: seg, encoding: .utf8).split(
      separator: "\n", omittingEmptySubsequences: false)
    lines[3] = Substring(lines[3].replacingOccurrences(of: "\"s\":1", with: "\"s\":2"))
    try lines.joined(separator: "\n").write(toFile: seg, atomically: false, encoding: .utf8)
    let r = f.verify()
    #expect(r.code == 1)
    #expect(
      r.out.contains("FAIL ") && r.out.contains("00000001.log:4") && r.out.contains("[record_modified]"), "\(r.out)")
    #expect(r.out.contains("(customer \"acme\")") && r.out.contains("1 records modified"))
    #expect(sendplan(["audit", "verify", "--audit-dir", f.root.path + "/nowhere"]).code == 66)
  }

  @Test func auditedRunsSayWhatTheySealed() throws {
    let root = try tempDir("unsigned")
    let args = [
      "run", "--input", sampleBundle, "--out", root.path + "/out", "--as-of", sampleAsOf, "--audit-dir",
      root.path + "/audit", "--no-fsync",
    ]
    let r = sendplan(args)
    #expect(r.code == 0)
    #expect(r.err.contains("UNSIGNED"), "\(r.err)")
    let v = sendplan(["audit", "verify", "--audit-dir", root.path + "/audit"])
    #expect(v.code == 0 && v.out.contains("is unsigned"), "\(v.out)")
    let again = sendplan(args)
    #expect(again.code == 0)
    #expect(again.err.contains("already sealed for every tenant") && again.err.contains("no-op"), "\(again.err)")
    let keyOnly = sendplan(Array(args.dropLast(3)) + ["--signing-key", root.path + "/key"])
    #expect(keyOnly.code == 64 && keyOnly.err.contains("--signing-key needs --audit-dir"), "\(keyOnly.err)")
  }

  @Test func failedAuditedRunsExitWithTheirStatus() throws {
    let f = try AuditFixture(runs: 0)
    let count = try f.run(day: 1, extra: ["--debug-count-steps"])
    let steps = Int(count.err.components(separatedBy: "debug: ").last?.components(separatedBy: " ").first ?? "") ?? 0
    #expect(steps > 8, "\(count.err)")
    let g = try AuditFixture(runs: 0)
    let full = try g.run(day: 1, extra: ["--debug-fail-at", "1"], expect: 74)
    #expect(full.err.contains("No space left on device") && full.err.contains("--run-id"), "\(full.err)")
    #expect(!FileManager.default.fileExists(atPath: g.out), "OUT must not be published")
    let lock = try AuditLock(auditDir: f.audit)
    let locked = try f.run(day: 2, expect: 75)
    #expect(locked.err.contains("holds the audit lock"), "\(locked.err)")
    _ = lock
    let key = sendplan(["audit", "keygen", "--out", f.key])
    #expect(key.code == 73 && key.err.contains("refusing to overwrite a key"), "\(key.err)")
  }

  @Test func queryAndExportPrintAndExit() throws {
    let f = try AuditFixture(runs: 1)
    let base = ["audit", "query", "--audit-dir", f.audit, "--customer-id", "acme", "--enrollment", "e01"]
    let page = sendplan(base + ["--limit", "2"])
    #expect(page.code == 0, "\(page.err)")
    let doc = try JSONSerialization.jsonObject(with: Data(page.out.utf8)) as? [String: Any]
    let cursor = try #require(doc?["nextCursor"] as? String)
    #expect(((doc?["data"] as? [String: Any])?["entries"] as? [Any])?.count == 2)
    let next = sendplan(base + ["--limit", "2", "--cursor", cursor])
    #expect(next.code == 0 && next.out != page.out)
    let foreign = sendplan(
      ["audit", "query", "--audit-dir", f.audit, "--customer-id", "globex", "--enrollment", "e01", "--cursor", cursor])
    #expect(foreign.code == 64 && foreign.err.contains("bad_cursor"), "\(foreign.err)")
    #expect(sendplan(base + ["--limit", "1001"]).code == 64)
    let missing = sendplan(["audit", "query", "--audit-dir", f.audit, "--customer-id", "globex", "--enrollment", "e02"])
    #expect(missing.code == 66 && missing.err.contains("[enrollment_not_found]"), "\(missing.err)")

    let tarPath = f.root.appendingPathComponent("acme.tar").path
    let export = sendplan(["audit", "export", "--audit-dir", f.audit, "--customer-id", "acme", "--out", tarPath])
    #expect(export.code == 0 && export.out.contains("README.txt"), "\(export.err)")
    #expect(FileManager.default.fileExists(atPath: tarPath))
    let again = sendplan(["audit", "export", "--audit-dir", f.audit, "--customer-id", "acme", "--out", tarPath])
    #expect(again.code == 73, "the archive must not exist")
    let nobody = sendplan([
      "audit", "export", "--audit-dir", f.audit, "--customer-id", "nobody", "--out", tarPath + "2",
    ])
    #expect(nobody.code == 66)
  }
}
