import Foundation
import SendplanCLI
import SendplanTestSupport
import Testing

/// Plans the sample bundle ("before") and the diff example ("after") once per test.
func diffPair() throws -> (before: String, after: String) {
  let root = try tempDir("diff")
  let before = root.appendingPathComponent("before").path
  let after = root.appendingPathComponent("after").path
  let afterBundle = repoRoot.appendingPathComponent("docs/diff-example/bundle-after").path
  #expect(sendplan(["run", "--input", sampleBundle, "--out", before, "--as-of", sampleAsOf]).code == 0)
  #expect(sendplan(["run", "--input", afterBundle, "--out", after, "--as-of", "2026-11-28T02:00:00Z"]).code == 0)
  return (before, after)
}

/// Replaces the temporary paths in a header so golden files are stable.
func stable(_ s: String, _ pair: (before: String, after: String)) -> String {
  s.replacingOccurrences(of: pair.before, with: "OLD").replacingOccurrences(of: pair.after, with: "NEW")
}

@Test(arguments: ["text", "json", "markdown"])
func diffGolden(_ format: String) throws {
  let pair = try diffPair()
  let r = sendplan(["diff", pair.before, pair.after, "--format", format, "--max-lines", "6"])
  #expect(r.code == 1)
  let ext = ["text": "txt", "json": "json", "markdown": "md"][format] ?? format
  let golden = goldenFolder.appendingPathComponent("diff/sample.\(ext)")
  let expected = String(decoding: try Data(contentsOf: golden), as: UTF8.self)
  // Regenerate the golden files with scripts/regen-golden.
  #expect(
    stable(r.out, pair) == expected, "diff --format \(format) differs from Golden/diff/sample.\(ext); \(regenHint)")
  if format == "json" {
    let obj = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any]
    #expect(obj?["formatVersion"] as? String == "1.0")
  }
}

@Test func identicalRunsHaveNoChangesInBothExitSchemes() throws {
  let pair = try diffPair()
  let r = sendplan(["diff", pair.before, pair.before])
  #expect(r.code == 0)
  #expect(r.out.hasSuffix("No changes.\n"))
  #expect(sendplan(["diff", pair.before, pair.before, "--detailed-exitcode"]).code == 0)
  #expect(sendplan(["diff", pair.before, pair.after, "--detailed-exitcode"]).code == 2)
  #expect(sendplan(["diff", pair.before, "/nonexistent", "--detailed-exitcode"]).code == 1)
  #expect(sendplan(["diff", pair.before, "/nonexistent"]).code == 2)
  #expect(sendplan(["diff", pair.before]).code == 2)
  #expect(sendplan(["diff", pair.before, pair.after, "--format", "yaml", "--detailed-exitcode"]).code == 1)
}

@Test func differentPlannedAtButSameItemsIsNoDiff() throws {
  let root = try tempDir("planned-at")
  let a = root.appendingPathComponent("a").path
  let b = root.appendingPathComponent("b").path
  #expect(sendplan(["run", "--input", sampleBundle, "--out", a, "--as-of", sampleAsOf, "--run-id", "x"]).code == 0)
  // One second later changes nothing in the sample's suppressions, only plannedAt and runId.
  #expect(sendplan(["run", "--input", sampleBundle, "--out", b, "--as-of", "2026-11-27T02:00:01Z"]).code == 0)
  let r = sendplan(["diff", a, b])
  #expect(r.code == 0, "\(r.out)")
  #expect(r.out.contains("run x") && r.out.contains("run run-20261127T020001Z"))
}

/// The library side is in SendplanDiffTests; here, what the command prints and exits with.
@Test func suppressedWouldSendRaisesAnAlert() throws {
  let lines = [
    dryRunLine(
      "e1",
      [
        dryRunItem("r1", 1, "Skipped", reason: "suppressed", email: "x@y.test"),
        dryRunItem("r2", 1, "WouldSend", email: " X@Y.test"),
      ])
  ]
  let r = sendplan(["diff", try dryRunsFile(lines), try dryRunsFile(lines)])
  #expect(r.code == 1)
  #expect(r.out.contains("suppressed_would_send"))
  #expect(r.err.contains("ALERT"))
}

@Test func tenantLevelChanges() throws {
  let pair = try diffPair()
  let failed = try bundle([
    "batches.csv": "customer_id,batch_id,status\nacme,b-paused,paused\nacme,b-live,active\nglobex,b1,bogus\n"
  ])
  let extra = try bundle([
    "templates.csv": String(
      decoding: try Data(contentsOf: URL(fileURLWithPath: sampleBundle + "/templates.csv")), as: UTF8.self)
      + "initech,t1,active,x,y\n"
  ])
  let root = try tempDir("tenants")
  let f = root.appendingPathComponent("failed").path
  let e = root.appendingPathComponent("extra").path
  #expect(sendplan(["run", "--input", failed.path, "--out", f, "--as-of", sampleAsOf]).code == 1)
  #expect(sendplan(["run", "--input", extra.path, "--out", e, "--as-of", sampleAsOf]).code == 0)
  let r1 = sendplan(["diff", pair.before, f])
  #expect(r1.code == 1)
  #expect(r1.out.contains("tenant planned → failed"))
  let r2 = sendplan(["diff", pair.before, e])
  #expect(r2.out.contains("tenant absent → planned"))
  let r3 = sendplan(["diff", e, pair.before])
  #expect(r3.out.contains("tenant planned → absent"))
}

@Test func filterAndMaxLines() throws {
  let pair = try diffPair()
  let r = sendplan(["diff", pair.before, pair.after, "--filter", "status=WouldSend", "--filter", "action=change"])
  #expect(r.code == 1)
  #expect(!r.out.contains("invalid_email →"))
  let none = sendplan(["diff", pair.before, pair.after, "--filter", "tenant=globex"])
  #expect(none.code == 0)
  let md = sendplan(["diff", pair.before, pair.after, "--format", "markdown", "--max-lines", "3"])
  #expect(md.out.contains("_9 more change(s) not shown (limit --max-lines 3)._"))
  #expect(sendplan(["diff", pair.before, pair.after, "--filter", "colour=red"]).code == 2)
}

@Test func corruptOrTruncatedInputIsTroubleWithFileAndLine() throws {
  let good = dryRunLine("e1", [dryRunItem("r1", 1, "WouldSend")])
  let truncated = try dryRunsFile([good, String(good.prefix(40))])
  let r = sendplan(["diff", try dryRunsFile([good]), truncated])
  #expect(r.code == 2)
  #expect(r.err.contains("dry-runs.jsonl:2:"))
  let unordered = try dryRunsFile([dryRunLine("e2", []), dryRunLine("e1", [])])
  let u = sendplan(["diff", unordered, unordered, "--detailed-exitcode"])
  #expect(u.code == 1)
  #expect(u.err.contains(":2:"))
  // A tampered run.json may not point outside OUT.
  let pair = try diffPair()
  let manifest = URL(fileURLWithPath: pair.after + "/run.json")
  let text = String(decoding: try Data(contentsOf: manifest), as: UTF8.self)
  try Data(text.replacingOccurrences(of: "tenants/acme-822b33ad87c148a0", with: "../../etc").utf8).write(to: manifest)
  let t = sendplan(["diff", pair.before, pair.after])
  #expect(t.code == 2)
  #expect(t.err.contains("run.json"))
}
