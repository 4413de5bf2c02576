import Foundation
import SendplanCLI
import SendplanTestSupport
import Testing

@Test func sampleRunMatchesGoldenFiles() throws {
  let out = try tempDir().appendingPathComponent("out")
  let r = sendplan(["run", "--input", sampleBundle, "--out", out.path, "--as-of", sampleAsOf])
  #expect(r.code == 0, "\(r.err)")
  let files = try tree(out)
  let golden = goldenFolder
  for (rel, goldenName) in [
    ("tenants/acme-822b33ad87c148a0/dry-runs.jsonl", "acme.dry-runs.jsonl"),
    ("tenants/acme-822b33ad87c148a0/queue.json", "acme.queue.json"),
    ("tenants/globex-5bc1a08d28e40fe7/dry-runs.jsonl", "globex.dry-runs.jsonl"),
    ("run.json", "run.json"),
  ] {
    let expected = try Data(contentsOf: golden.appendingPathComponent(goldenName))
    // Regenerate the golden files with scripts/regen-golden.
    #expect(files[rel] == expected, "\(rel) differs from Golden/\(goldenName); \(regenHint)")
  }
}

@Test func sampleCoversEveryStatusAndReason() throws {
  let out = try tempDir().appendingPathComponent("out")
  #expect(sendplan(["run", "--input", sampleBundle, "--out", out.path, "--as-of", sampleAsOf]).code == 0)
  let files = try tree(out)
  var reasons = Set<String>()
  var statuses = Set<String>()
  var errors = Set<String>()
  for (rel, data) in files where rel.hasSuffix("dry-runs.jsonl") {
    for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
      let obj = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
      let d = obj?["data"] as? [String: Any] ?? [:]
      for e in d["errors"] as? [String] ?? [] { errors.insert(e) }
      for item in d["items"] as? [[String: Any]] ?? [] {
        statuses.insert(item["status"] as? String ?? "")
        if let r = item["reason"] as? String { reasons.insert(r) }
      }
    }
  }
  #expect(statuses == ["WouldSend", "Skipped", "FailedValidation", "Paused"])
  #expect(
    reasons == [
      "invalid_email", "opted_out", "suppressed", "duplicate_recipient", "sequence_not_active", "identity_missing",
      "identity_not_found", "identity_not_verified", "invalid_step", "template_not_found", "template_not_active",
      "enrollment_paused", "batch_paused",
    ])
  #expect(errors.isSuperset(of: ["sequence_not_found", "sequence_has_no_steps"]))
}

@Test func shuffledRowsGiveByteIdenticalTenantOutput() throws {
  let shuffled = try bundle()
  // Reverse the data rows of every CSV file (a deterministic shuffle) and the JSONL lines.
  for name in try FileManager.default.contentsOfDirectory(atPath: shuffled.path) {
    let url = shuffled.appendingPathComponent(name)
    let lines = String(decoding: try Data(contentsOf: url), as: UTF8.self).split(separator: "\n")
    let reordered = name.hasSuffix(".csv") ? [lines[0]] + lines.dropFirst().reversed() : lines.reversed()
    try Data((reordered.joined(separator: "\n") + "\n").utf8).write(to: url)
  }
  let a = try tempDir().appendingPathComponent("a")
  let b = try tempDir().appendingPathComponent("b")
  #expect(sendplan(["run", "--input", sampleBundle, "--out", a.path, "--as-of", sampleAsOf]).code == 0)
  #expect(sendplan(["run", "--input", shuffled.path, "--out", b.path, "--as-of", sampleAsOf]).code == 0)
  // Reports name the input digests and the line numbers of orphan rows and of cited rows, which
  // follow the files as given.
  func normalised(_ files: [String: Data]) -> [String: String] {
    files.filter { $0.key.hasPrefix("tenants/") }.mapValues { data in
      String(decoding: data, as: UTF8.self)
        .replacingOccurrences(of: #"<input [^>]*/>"#, with: "", options: .regularExpression)
        .replacingOccurrences(of: #" line="[0-9]+""#, with: "", options: .regularExpression)
        // Evidence in report.html cites rows as file:line.
        .replacingOccurrences(of: #"(\.csv|\.jsonl):[0-9]+"#, with: "$1:N", options: .regularExpression)
        .replacingOccurrences(
          of: #"<tr><td><code>[^<]*</code></td><td class="mono">[0-9a-f]{64}</td>.*?</tr>"#, with: "",
          options: .regularExpression
        )
        .replacingOccurrences(
          of: #"<tr><td>(recipient|step)</td><td class="n">[0-9]+</td>"#, with: "<tr><td>$1</td>",
          options: .regularExpression)
    }
  }
  let ta = try tree(a)
  let tb = try tree(b)
  #expect(ta.keys.filter { $0.hasPrefix("tenants/") }.count == 8)
  for (k, v) in ta where k.hasPrefix("tenants/") && (k.hasSuffix(".jsonl") || k.hasSuffix(".json")) {
    #expect(tb[k] == v, "\(k)")
  }
  #expect(normalised(ta) == normalised(tb))
  // run.json differs only in the input digests and sizes.
  var ma = try readJSON(a.appendingPathComponent("run.json"))
  var mb = try readJSON(b.appendingPathComponent("run.json"))
  ma["inputs"] = nil
  mb["inputs"] = nil
  #expect(NSDictionary(dictionary: ma).isEqual(to: mb))
}

@Test func rerunReplacesOutAndKeepsItOnStructuralError() throws {
  let out = try tempDir().appendingPathComponent("out")
  #expect(sendplan(["run", "--input", sampleBundle, "--out", out.path, "--as-of", sampleAsOf]).code == 0)
  let before = try tree(out)
  let broken = try bundle(["steps.csv": "customer_id,sequence_id,step_order,template_id\nacme,\"s1,1,t1\n"])
  let r = sendplan(["run", "--input", broken.path, "--out", out.path, "--as-of", "2026-11-28T02:00:00Z"])
  #expect(r.code == 65)
  #expect(r.err.contains("steps.csv:2:"))
  #expect(try tree(out) == before)
  // No staging folder is left behind.
  let siblings = try FileManager.default.contentsOfDirectory(atPath: out.deletingLastPathComponent().path)
  #expect(siblings == ["out"])
  // A later good run replaces OUT in place.
  #expect(sendplan(["run", "--input", sampleBundle, "--out", out.path, "--as-of", "2026-11-28T02:00:00Z"]).code == 0)
  #expect(try tree(out) != before)
}

@Test func refusesToReplaceAFolderThatIsNotSendplanOutput() throws {
  let out = try tempDir("foreign")
  try Data("keep me".utf8).write(to: out.appendingPathComponent("notes.txt"))
  let r = sendplan(["run", "--input", sampleBundle, "--out", out.path, "--as-of", sampleAsOf])
  #expect(r.code == 73)
  #expect(try tree(out).keys.sorted() == ["notes.txt"])
}

/// Section 2 cases with their exit codes and what the message must name.
struct ExitCase: Sendable, CustomTestStringConvertible {
  let name: String
  let edits: [String: String?]
  let code: Int32
  let mentions: String
  var testDescription: String { name }
}

let exitCases: [ExitCase] = [
  ExitCase(
    name: "broken quoting", edits: ["templates.csv": "customer_id,template_id,status\nacme,t\"1,active\n"], code: 65,
    mentions: "templates.csv:2:"),
  ExitCase(
    name: "missing required column", edits: ["batches.csv": "customer_id,batch_id\n"], code: 65,
    mentions: "batches.csv:1:"),
  ExitCase(
    name: "two files for one table",
    edits: ["batches.jsonl": "{\"customer_id\":\"acme\",\"batch_id\":\"x\",\"status\":\"active\"}\n"], code: 65,
    mentions: "batches.csv, batches.jsonl"),
  ExitCase(name: "required table missing", edits: ["templates.csv": nil], code: 65, mentions: "templates"),
  ExitCase(
    name: "unattributable row", edits: ["suppressions.jsonl": "{\"type\":\"email\",\"value\":\"a@x.test\"}\n"],
    code: 65, mentions: "suppressions.jsonl:1:"),
  ExitCase(
    name: "row-level error fails one tenant",
    edits: [
      "batches.csv": "customer_id,batch_id,status\nacme,b-paused,paused\nacme,b-live,active\nglobex,b1,stopped\n"
    ],
    code: 1, mentions: "batches.csv:4:"),
  ExitCase(
    name: "duplicate key fails one tenant",
    edits: [
      "batches.csv": "customer_id,batch_id,status\nacme,b-paused,paused\nacme,b-live,active\nacme,b-live,active\n"
    ],
    code: 1, mentions: "batches.csv:4:"),
]

@Test("exit codes and messages for bad input", arguments: exitCases)
func badInput(_ c: ExitCase) throws {
  let input = try bundle(c.edits)
  let out = try tempDir().appendingPathComponent("out")
  let r = sendplan(["run", "--input", input.path, "--out", out.path, "--as-of", sampleAsOf])
  #expect(r.code == c.code, "\(r.err)")
  #expect(r.err.contains(c.mentions), "\(r.err)")
  #expect(r.err.contains("fix"))
  if c.code == 65 {
    #expect(!FileManager.default.fileExists(atPath: out.path))
  }
  // validate agrees with run.
  let v = sendplan(["validate", "--input", input.path])
  #expect(v.code == c.code)
  #expect(v.err.contains(c.mentions))
}

@Test func failedTenantIsListedAndOthersArePlanned() throws {
  let input = try bundle([
    "batches.csv": "customer_id,batch_id,status\nacme,b-paused,paused\nacme,b-live,active\nglobex,b1,stopped\n"
  ])
  let out = try tempDir().appendingPathComponent("out")
  #expect(sendplan(["run", "--input", input.path, "--out", out.path, "--as-of", sampleAsOf]).code == 1)
  let m = try readJSON(out.appendingPathComponent("run.json"))
  let tenants = m["tenants"] as? [[String: Any]] ?? []
  #expect(tenants.map { $0["status"] as? String } == ["planned", "failed"])
  let errs = tenants[1]["errors"] as? [[String: Any]] ?? []
  #expect(errs.first?["file"] as? String == "batches.csv")
  #expect(errs.first?["line"] as? Int == 4)
  let folder = tenants[1]["folder"] as? String ?? ""
  let files = try tree(out.appendingPathComponent(folder)).keys.sorted()
  #expect(files == ["errors.json", "report.html"])
  let report = String(
    decoding: try Data(contentsOf: out.appendingPathComponent(folder + "/report.html")), as: UTF8.self)
  #expect(report.contains("batches.csv") && report.contains("This tenant was not planned"))
}

@Test func usageAndMissingInputExitCodes() throws {
  let out = try tempDir().appendingPathComponent("out").path
  #expect(sendplan(["run", "--input", sampleBundle, "--out", out, "--as-of", "2026-11-27T02:00:00.5Z"]).code == 64)
  #expect(sendplan(["run", "--input", sampleBundle, "--out", out, "--as-of", "yesterday"]).code == 64)
  #expect(sendplan(["run", "--input", sampleBundle, "--out", out, "--run-id", "../x"]).code == 64)
  #expect(sendplan(["run", "--bogus"]).code == 64)
  #expect(sendplan(["run", "--input", "/nonexistent/bundle", "--out", out]).code == 66)
  #expect(sendplan(["validate", "--input", "/nonexistent/bundle"]).code == 66)
  let help = sendplan(["run", "--help"])
  #expect(help.code == 0)
  #expect(help.out.contains("73"))
}

@Test func hostileCustomerIdsStayInsideTheirOwnFolders() throws {
  let ids = [
    "../x", "a/b", ".", "..", " ", "ACME", "acme", "-rf", String(repeating: "é", count: 128), "x\\y", "\u{202E}evil",
  ]
  var csv = "customer_id,template_id,status\n"
  for id in ids {
    let quotedID = "\"" + id.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    csv += "\(quotedID),t1,active\n"
  }
  let input = try bundle(["templates.csv": csv])
  let root = try tempDir()
  let out = root.appendingPathComponent("out")
  let r = sendplan(["run", "--input", input.path, "--out", out.path, "--as-of", sampleAsOf])
  #expect(r.code == 0, "\(r.err)")
  let m = try readJSON(out.appendingPathComponent("run.json"))
  let tenants = m["tenants"] as? [[String: Any]] ?? []
  let folders = tenants.compactMap { $0["folder"] as? String }
  // "acme" is already in the sample, so only globex is added.
  #expect(folders.count == ids.count + 1)
  #expect(Set(folders.map { $0.lowercased() }).count == folders.count)
  for f in folders {
    #expect(f.hasPrefix("tenants/"))
    let name = String(f.dropFirst("tenants/".count))
    #expect(!name.contains("/") && !name.hasPrefix(".") && !name.hasPrefix("-") && name.utf8.count <= 64)
  }
  // Nothing escaped: OUT's parent holds only OUT, and tenants/ holds exactly the folders.
  #expect(try FileManager.default.contentsOfDirectory(atPath: root.path) == ["out"])
  let made = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("tenants").path)
  #expect(Set(made.map { "tenants/" + $0 }) == Set(folders))
}

@Test func tenantFoldersHoldOnlyTheirOwnData() throws {
  let out = try tempDir().appendingPathComponent("out")
  #expect(sendplan(["run", "--input", sampleBundle, "--out", out.path, "--as-of", sampleAsOf]).code == 0)
  let files = try tree(out)
  let globex = files.filter { $0.key.hasPrefix("tenants/globex") }.values.map { String(decoding: $0, as: UTF8.self) }
  #expect(!globex.isEmpty)
  for text in globex {
    #expect(!text.contains("acme"))
    #expect(!text.contains("grace@example.com"))
  }
}

@Test func maxRecordBytesBoundsRunAndValidate() throws {
  let long = String(repeating: "x", count: 2000)
  let input = try bundle([
    "recipients.csv": "customer_id,enrollment_id,recipient_id,email\nacme,e01,r01,a@x.test\nacme,e01,r02,\(long)\n"
  ])
  let out = try tempDir().appendingPathComponent("out")
  for args in [
    ["validate", "--input", input.path, "--max-record-bytes", "1K"],
    ["run", "--input", input.path, "--out", out.path, "--as-of", sampleAsOf, "--max-record-bytes", "1K"],
  ] {
    let r = sendplan(args)
    #expect(r.code == 65, "\(r.err)")
    #expect(r.err.contains("recipients.csv:3") && r.err.contains("1024 bytes"), "\(r.err)")
  }
  #expect(!FileManager.default.fileExists(atPath: out.path))
  // The default limit (1 MiB) takes the record; a bad size is a usage error.
  #expect(sendplan(["validate", "--input", input.path]).code != 65)
  #expect(sendplan(["validate", "--input", input.path, "--max-record-bytes", "2G"]).code == 64)
  #expect(sendplan(["validate", "--input", input.path, "--max-record-bytes", "lots"]).code == 64)
}
