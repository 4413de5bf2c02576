import Foundation
import SendplanTestSupport
import Testing

/// The golden `explain` outputs: each case's command line after `explain --input docs/sample-bundle
/// --customer-id acme`; scripts/regen-golden runs the same ones.
let explainGoldenCases: [(name: String, args: [String])] = [
  ("blocked.txt", ["--email", "blocked@example.com"]),
  ("blocked.json", ["--email", "blocked@example.com", "--format", "json"]),
  ("ada.txt", ["--email", "ADA.lovelace@example.com"]),
  ("steps.json", ["--recipient-id", "r02", "--enrollment-id", "e08", "--format", "json"]),
  ("paused.txt", ["--recipient-id", "r01"]),
]

/// The two audited runs behind the history goldens (the rule on boundary@example.com expires at the
/// second run's as-of, so the address goes from suppressed to WouldSend).
let historyRuns = ["2026-11-26T02:00:00Z", "2026-11-27T02:00:00Z"]

@Suite("explain")
struct ExplainTests {
  @Test("explain matches the golden outputs", arguments: explainGoldenCases.map(\.name))
  func golden(_ name: String) throws {
    let args = try #require(explainGoldenCases.first { $0.name == name }).args
    let r = sendplan(
      ["explain", "--input", sampleBundle, "--customer-id", "acme", "--as-of", sampleAsOf] + args)
    #expect(r.code == 0, "\(r.err)")
    let expected = try String(
      contentsOf: goldenFolder.appendingPathComponent("explain/\(name)"), encoding: .utf8)
    #expect(r.out == expected, "Golden/explain/\(name) differs; \(regenHint)")
  }

  @Test("explain with history over two audited runs matches the golden outputs")
  func history() throws {
    let dir = try tempDir("explain-audit")
    let audit = dir.appendingPathComponent("audit").path
    for at in historyRuns {
      let r = sendplan([
        "run", "--input", sampleBundle, "--out", dir.appendingPathComponent("out").path, "--as-of", at,
        "--audit-dir", audit, "--quiet", "--no-reports", "--no-fsync",
      ])
      #expect(r.code == 0, "\(r.err)")
    }
    for (name, format) in [("boundary-history.txt", "text"), ("boundary-history.json", "json")] {
      let r = sendplan([
        "explain", "--input", sampleBundle, "--customer-id", "acme", "--email", "boundary@example.com",
        "--as-of", historyRuns[1], "--audit-dir", audit, "--format", format,
      ])
      #expect(r.code == 0, "\(r.err)")
      let expected = try String(
        contentsOf: goldenFolder.appendingPathComponent("explain/\(name)"), encoding: .utf8)
      #expect(r.out == expected, "Golden/explain/\(name) differs; \(regenHint)")
    }
  }

  @Test("nothing matched is 66; an unknown customer is 66; the address is not on stderr")
  func exitCodes() throws {
    var r = sendplan([
      "explain", "--input", sampleBundle, "--customer-id", "acme", "--email", "nobody@nowhere.example",
      "--as-of", sampleAsOf,
    ])
    #expect(r.code == 66)
    #expect(!r.err.contains("nobody@nowhere.example"))
    r = sendplan([
      "explain", "--input", sampleBundle, "--customer-id", "initech", "--recipient-id", "r01", "--as-of", sampleAsOf,
    ])
    #expect(r.code == 66)
    r = sendplan(["explain", "--input", sampleBundle, "--customer-id", "acme", "--as-of", sampleAsOf])
    #expect(r.code == 64)
  }

  @Test("a tenant with row errors exits 1; a structural error exits 65; other tenants' errors do not matter")
  func badInput() throws {
    let broken = try bundle([
      "batches.csv": "customer_id,batch_id,status\nacme,b-paused,paused\nacme,b-live,active\nglobex,b1,frozen\n"
    ])
    var r = sendplan([
      "explain", "--input", broken.path, "--customer-id", "globex", "--recipient-id", "r01", "--as-of", sampleAsOf,
    ])
    #expect(r.code == 1)
    r = sendplan([
      "explain", "--input", broken.path, "--customer-id", "acme", "--recipient-id", "r01", "--as-of", sampleAsOf,
    ])
    #expect(r.code == 0)
    let structural = try bundle(["batches.csv": "customer_id,batch_id\nacme,b1\n"])
    r = sendplan([
      "explain", "--input", structural.path, "--customer-id", "acme", "--recipient-id", "r01", "--as-of", sampleAsOf,
    ])
    #expect(r.code == 65)
  }
}

@Suite("record format versions")
struct RecordFormatVersionTests {
  /// Golden/audit-v1 is an audit folder written by sendplan ce97f98 (record format 1, before
  /// evidence): one run of the sample bundle as of 2026-11-26, unsigned. It is frozen, not regenerated.
  static let v1 = goldenFolder.appendingPathComponent("audit-v1")

  @Test("a version 1 stream keeps verifying, takes a version 2 segment, and reads back both")
  func oldStreamStillVerifies() throws {
    let dir = try tempDir("audit-v1")
    let audit = dir.appendingPathComponent("audit")
    try FileManager.default.copyItem(at: Self.v1, to: audit)
    var r = sendplan(["audit", "verify", "--audit-dir", audit.path])
    #expect(r.code == 0, "\(r.out)\(r.err)")
    r = sendplan([
      "run", "--input", sampleBundle, "--out", dir.appendingPathComponent("out").path, "--as-of", sampleAsOf,
      "--audit-dir", audit.path, "--quiet", "--no-reports", "--no-fsync",
    ])
    #expect(r.code == 0, "\(r.err)")
    r = sendplan(["audit", "verify", "--audit-dir", audit.path])
    #expect(r.code == 0, "\(r.out)\(r.err)")
    let stream = try #require(
      try FileManager.default.contentsOfDirectory(atPath: audit.path + "/streams").first { $0.hasPrefix("acme-") })
    let first = try String(contentsOfFile: audit.path + "/streams/\(stream)/00000001.log", encoding: .utf8)
    let second = try String(contentsOfFile: audit.path + "/streams/\(stream)/00000002.log", encoding: .utf8)
    #expect(!first.contains("\"v\":") && !first.contains("\"evidence\""))
    #expect(second.hasPrefix("{\"n\":\(first.split(separator: "\n").count),\"t\":\"segment\",\"v\":2,"))
    #expect(second.contains("\"evidence\":{"))
    r = sendplan(["audit", "query", "--audit-dir", audit.path, "--customer-id", "acme", "--enrollment", "e01"])
    #expect(r.code == 0)
    let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
    let entries = try #require((doc["data"] as? [String: Any])?["entries"] as? [[String: Any]])
    let skipped = entries.filter { $0["eventType"] as? String == "skipped" }
    let withEvidence = skipped.filter { ($0["payload"] as? [String: Any])?["evidence"] != nil }
    #expect(withEvidence.count > 0 && withEvidence.count < skipped.count)
    #expect(withEvidence.allSatisfy { $0["runId"] as? String == "run-20261127T020000Z" })
  }
}
