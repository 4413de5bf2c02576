import Foundation
import SendplanTestSupport
import Testing

@testable import SendplanCLI

@Suite struct OpsTests {
  @Test func jsonLogLinesCarryTheContractFields() throws {
    let out = try tempDir().appendingPathComponent("out")
    let r = sendplan([
      "run", "--input", sampleBundle, "--out", out.path, "--as-of", sampleAsOf, "--log-format", "json",
    ])
    #expect(r.code == 0, "\(r.err)")
    var lines: [[String: Any]] = []
    for line in r.err.split(separator: "\n") {
      let obj = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
      let o = try #require(obj, "not a JSON object: \(line)")
      #expect(o["level"] is String && o["msg"] is String && o["ts"] is String, "\(line)")
      lines.append(o)
    }
    let enrollments = lines.filter { $0["msg"] as? String == "dry run planned" }
    #expect(enrollments.count == 12)
    for e in enrollments {
      #expect(e["customerId"] is String && e["enrollmentId"] is String)
      for k in ["items", "skipped", "failed", "paused", "wouldSend"] { #expect(e[k] is Int, "\(k) in \(e)") }
    }
    let e01 = try #require(
      enrollments.first { $0["customerId"] as? String == "acme" && $0["enrollmentId"] as? String == "e01" })
    #expect(e01["items"] as? Int == 25 && e01["skipped"] as? Int == 15 && e01["wouldSend"] as? Int == 10)
    #expect(lines.filter { $0["msg"] as? String == "tenant planned" }.count == 2)
    let end = try #require(lines.last)
    #expect(end["msg"] as? String == "run finished with exit status 0" && end["exitStatus"] as? Int == 0)
    #expect(end["items"] as? Int == 50)

    let quiet = sendplan([
      "run", "--input", sampleBundle, "--out", out.path, "--as-of", sampleAsOf, "--log-format", "json",
      "--quiet-enrollments",
    ])
    #expect(quiet.code == 0)
    #expect(!quiet.err.contains("dry run planned") && quiet.err.contains("tenant planned"))
  }

  @Test(arguments: ["mask", "hash", "none"])
  func noAddressInLogsUnlessRedactionIsNone(mode: String) throws {
    let dir = try tempDir()
    let key = dir.appendingPathComponent("log.key")
    try Data("0123456789abcdef-secret".utf8).write(to: key)
    // A broken row puts an address into an error message too.
    let text = try String(contentsOfFile: sampleBundle + "/recipients.csv", encoding: .utf8)
    let input = try bundle(["recipients.csv": text + "acme,e01,\"bad,row@example.org\n"])
    let addresses = try sampleAddresses()
    #expect(addresses.count >= 5)
    var seen = ""
    for format in ["text", "json"] {
      for bundleDir in [sampleBundle, input.path] {
        let r = sendplan([
          "run", "--input", bundleDir, "--out", dir.appendingPathComponent("out").path, "--as-of", sampleAsOf,
          "--log-level", "debug", "--log-format", format, "--log-redaction", mode, "--log-hash-key", key.path,
        ])
        seen += r.out + r.err
      }
    }
    let leaked = addresses.filter { seen.lowercased().contains($0.lowercased()) }
    if mode == "none" {
      #expect(!leaked.isEmpty, "with none the addresses are logged, so this test can see a leak")
    } else {
      #expect(leaked.isEmpty, "leaked: \(leaked)")
      #expect(!seen.contains("row@example.org"))
    }
    if mode == "hash" {
      #expect(seen.contains("email:"))
    }
  }

  /// The redactor itself is tested in SendplanLoggingTests; hashing needs a key.
  @Test func hashRedactionNeedsAKey() throws {
    let r = sendplan(["run", "--input", sampleBundle, "--out", "/tmp/x", "--log-redaction", "hash"])
    #expect(r.code == 64 && r.err.contains("--log-hash-key"))
  }

  @Test func metricsFileParsesAndCarriesTheSampleValues() throws {
    let dir = try tempDir()
    let metrics = dir.appendingPathComponent("sendplan.prom").path
    let r = sendplan([
      "run", "--input", sampleBundle, "--out", dir.appendingPathComponent("out").path, "--as-of", sampleAsOf,
      "--audit-dir", dir.appendingPathComponent("audit").path, "--metrics-file", metrics, "--quiet",
    ])
    #expect(r.code == 0, "\(r.err)")
    let m = try parseMetrics(String(contentsOfFile: metrics, encoding: .utf8))
    #expect(m["sendplan_run_exit_status"] == 0)
    #expect(m["sendplan_items{status=\"WouldSend\"}"] == 15)
    #expect(m["sendplan_items{status=\"Skipped\"}"] == 16)
    #expect(m["sendplan_items{status=\"FailedValidation\"}"] == 13)
    #expect(m["sendplan_items{status=\"Paused\"}"] == 6)
    #expect(m["sendplan_skipped_items{reason=\"suppressed\"}"] == 6)
    #expect(m["sendplan_skipped_items{reason=\"invalid_email\"}"] == 4)
    #expect(m["sendplan_tenants{state=\"planned\"}"] == 2)
    #expect(m["sendplan_failed_tenants"] == 0)
    #expect(m["sendplan_dry_runs{customer_id=\"acme\"}"] == 11)
    #expect(m["sendplan_dry_runs{customer_id=\"globex\"}"] == 1)
    #expect(m["sendplan_audit_entries_appended{customer_id=\"acme\"}"] == 75)
    #expect(m["sendplan_audit_entries_appended{customer_id=\"globex\"}"] == 2)
    #expect((m["sendplan_audit_stream_bytes{customer_id=\"acme\"}"] ?? 0) > 1000)
    #expect(m["sendplan_run_duration_seconds"] != nil)
    #expect(m["sendplan_last_success_timestamp_seconds"] != nil)
    #expect(m.keys.allSatisfy { !$0.contains("enrollment_id") && !$0.contains("recipient_id") })

    // Night two: the stream size comes from head.json and matches the segments on disk.
    let night2 = sendplan([
      "run", "--input", sampleBundle, "--out", dir.appendingPathComponent("out").path, "--as-of",
      "2026-11-28T02:00:00Z", "--audit-dir", dir.appendingPathComponent("audit").path, "--metrics-file", metrics,
      "--quiet",
    ])
    #expect(night2.code == 0)
    let streams = dir.appendingPathComponent("audit/streams").path
    let acme = try #require(
      try FileManager.default.contentsOfDirectory(atPath: streams).first { $0.hasPrefix("acme-") })
    var onDisk = 0
    for name in try FileManager.default.contentsOfDirectory(atPath: streams + "/" + acme) where name.hasSuffix(".log") {
      onDisk +=
        (try FileManager.default.attributesOfItem(atPath: streams + "/" + acme + "/" + name)[.size] as? Int) ?? 0
    }
    let m1 = try parseMetrics(String(contentsOfFile: metrics, encoding: .utf8))
    #expect(m1["sendplan_audit_stream_bytes{customer_id=\"acme\"}"] == Double(onDisk))
    let head = try readJSON(URL(fileURLWithPath: streams + "/" + acme + "/head.json"))
    #expect(head["streamBytes"] as? Int == onDisk)

    // A failed run replaces the file but keeps the last success.
    let failed = sendplan([
      "run", "--input", dir.appendingPathComponent("missing").path, "--out", dir.appendingPathComponent("out").path,
      "--metrics-file", metrics, "--quiet",
    ])
    #expect(failed.code == 66)
    let m2 = try parseMetrics(String(contentsOfFile: metrics, encoding: .utf8))
    #expect(m2["sendplan_run_exit_status"] == 66)
    #expect(m2["sendplan_last_success_timestamp_seconds"] == m1["sendplan_last_success_timestamp_seconds"])
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains(".tmp") }.isEmpty)
  }

  @Test func metricLabelValuesAreEscaped() {
    let text = String(
      decoding: PrometheusText.render([
        MetricFamily(name: "x", help: "h\\n", samples: [.init(["customer_id": "a\"b\\c\nd"], 1.5)])
      ]), as: UTF8.self)
    #expect(text == "# HELP x h\\\\n\n# TYPE x gauge\nx{customer_id=\"a\\\"b\\\\c\\nd\"} 1.5\n")
  }

  @Test func sigtermStopsTheRunAndARerunFinishes() throws {
    let input = try multiTenantBundle(copies: 20)
    let dir = try tempDir()
    let out = dir.appendingPathComponent("out").path
    let audit = dir.appendingPathComponent("audit").path
    let args = ["run", "--input", input.path, "--out", out, "--as-of", sampleAsOf, "--audit-dir", audit, "--quiet"]
    let stopped = try runBinary(args + ["--debug-sigterm-after", "3"])
    let files = try FileManager.default.contentsOfDirectory(atPath: input.path)
    #expect(stopped.code == 75, "\(stopped.err) \(files)")
    #expect(stopped.err.contains("stopped by signal 15"), "\(stopped.err)")
    #expect(!FileManager.default.fileExists(atPath: out))
    let v = sendplan(["audit", "verify", "--audit-dir", audit])
    #expect(v.code == 0, "\(v.out)")
    let rerun = try runBinary(args)
    #expect(rerun.code == 0, "\(rerun.err)")
    // Same bundle, as-of and run id in one go: OUT and the streams must be identical.
    let cleanOut = dir.appendingPathComponent("clean-out").path
    let cleanAudit = dir.appendingPathComponent("clean-audit").path
    let clean = sendplan([
      "run", "--input", input.path, "--out", cleanOut, "--as-of", sampleAsOf, "--audit-dir", cleanAudit, "--quiet",
    ])
    #expect(clean.code == 0)
    #expect(try tree(URL(fileURLWithPath: out)) == tree(URL(fileURLWithPath: cleanOut)))
    #expect(
      try tree(URL(fileURLWithPath: audit + "/streams")) == tree(URL(fileURLWithPath: cleanAudit + "/streams")))
  }

  /// Shard parsing and hashing are tested in SendplanModelTests; a bad --shard is a usage error.
  @Test func shardMustBeKOfN() throws {
    for bad in ["2/2", "a/b", "1"] {
      let r = sendplan(["run", "--input", sampleBundle, "--out", "/tmp/x", "--shard", bad])
      #expect(r.code == 64 && r.err.contains("--shard"), "\(bad): \(r.err)")
    }
  }

  @Test func shardUnionEqualsTheUnshardedRun() throws {
    let input = try multiTenantBundle(copies: 10)
    let dir = try tempDir()
    func run(_ name: String, _ audit: String, _ extra: [String] = []) throws -> URL {
      let out = dir.appendingPathComponent(name)
      let r = sendplan(
        [
          "run", "--input", input.path, "--out", out.path, "--as-of", sampleAsOf, "--quiet", "--audit-dir",
          dir.appendingPathComponent(audit).path,
        ] + extra)
      #expect(r.code == 0, "\(r.err)")
      return out
    }
    let whole = try run("whole", "audit-whole")
    let n = 3
    let shards = try (0..<n).map { try run("shard-\($0)", "audit-shards", ["--shard", "\($0)/\(n)"]) }
    var union: [String: Data] = [:]
    for s in shards {
      let t = try tree(s.appendingPathComponent("tenants"))
      #expect(!t.isEmpty, "every shard gets tenants")
      for (k, v) in t {
        #expect(union[k] == nil, "\(k) is in two shards")
        union[k] = v
      }
    }
    #expect(union == (try tree(whole.appendingPathComponent("tenants"))))
    #expect(
      try tree(dir.appendingPathComponent("audit-shards/streams"))
        == tree(dir.appendingPathComponent("audit-whole/streams")))
    let merged = dir.appendingPathComponent("merged.json")
    let m = sendplan(["merge-manifests"] + shards.map(\.path) + ["--out", merged.path])
    #expect(m.code == 0, "\(m.err)")
    #expect(try Data(contentsOf: merged) == Data(contentsOf: whole.appendingPathComponent("run.json")))
    let printed = sendplan(["merge-manifests"] + shards.reversed().map { $0.appendingPathComponent("run.json").path })
    #expect(printed.out.utf8.elementsEqual(try Data(contentsOf: merged)))
    let missing = sendplan(["merge-manifests", shards[0].path, shards[2].path])
    #expect(missing.code == 65 && missing.err.contains("shard(s) 1 of 3 missing"), "\(missing.err)")
    let twice = sendplan(["merge-manifests", shards[0].path, shards[0].path, shards[1].path])
    #expect(twice.code == 65 && twice.err.contains("appears twice"))
    let unsharded = sendplan(["merge-manifests", whole.path])
    #expect(unsharded.code == 65)
  }

}
