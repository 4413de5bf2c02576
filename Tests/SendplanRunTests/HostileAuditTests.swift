import Foundation
import SendplanAudit
import SendplanDiagnostics
import SendplanJSON
import SendplanModel
import SendplanRun
import SendplanTestSupport
import Testing

/// Every file of a real audit folder is input: each mutation below damages one file of a folder two
/// audited runs wrote, then `audit query`, `audit verify`, `audit export` and the next `run` go over
/// it, with `audit prove` and `check-proof` of one entry and `explain`'s history. Each must give a
/// clean error or a correct answer, never trap: a query returns exactly the entries it returned
/// before or throws; a proof that checks proves the entry as it was sealed; verify reports a changed file (the leftover
/// `head.json.tmp`, the lock and the key file aside) as a problem; a run fails only the damaged
/// tenant, naming a file and a code, or plans it from a stream it could check.
struct Mutation: Sendable, CustomTestStringConvertible {
  /// Path relative to the fixture's root: `audit/…`, `key`, or `acme/NAME` for a file of acme's stream.
  var file: String
  var what: String
  var change: @Sendable ([UInt8]) -> [UInt8]
  var testDescription: String { "\(file): \(what)" }
}

/// Replaces the number after `"key":` (or, for checkpoint lines, after `key `) with `value`:
/// every occurrence, or only those on line `line` (1-based).
func setNumber(_ key: String, to value: String, line: Int? = nil, json: Bool = true) -> @Sendable ([UInt8]) -> [UInt8] {
  { bytes in
    let text = String(decoding: bytes, as: UTF8.self)
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let marker = json ? "\"\(key)\":" : "\(key) "
    for i in lines.indices where line == nil || line == i + 1 {
      var out = ""
      var rest = Substring(lines[i])
      while let r = rest.range(of: marker) {
        if !json && r.lowerBound != rest.startIndex {
          out += rest[..<r.upperBound]
          rest = rest[r.upperBound...]
          continue
        }
        out += rest[..<r.upperBound]
        rest = rest[r.upperBound...]
        let digits = rest.prefix { $0 == "-" || $0.isNumber }
        if !digits.isEmpty {
          out += value
          rest = rest.dropFirst(digits.count)
        }
      }
      lines[i] = out + rest
    }
    return Array(lines.joined(separator: "\n").utf8)
  }
}

let hostileNumbers = ["-1", "0", "4611686018427387904", "9223372036854775807", "-9223372036854775808"]

/// The files of acme's stream after two runs, with the numbers each holds.
let hostileMutations: [Mutation] = {
  var m: [Mutation] = []
  let numbered: [(String, [String], Int?, Bool)] = [
    ("00000001.idx", ["n", "k", "o", "l"], nil, true), ("00000002.idx", ["n", "k", "o", "l"], nil, true),
    ("00000002.idx", ["o", "l"], 1, true),
    (
      "00000001.manifest.json", ["segment", "firstRecord", "lastRecord", "records", "segmentBytes", "treeSize"],
      nil, true
    ),
    (
      "00000002.manifest.json",
      ["segment", "firstRecord", "lastRecord", "records", "segmentBytes", "treeSize", "would_send"], nil, true
    ),
    ("head.json", ["segment", "treeSize", "streamBytes", "run-20261128T020000Z"], nil, true),
    ("head.json.tmp", ["segment", "treeSize"], nil, true),
    ("00000001.checkpoint", ["segment", "size"], nil, false), ("00000002.checkpoint", ["segment", "size"], nil, false),
    ("00000001.log", ["segment", "n"], 1, true), ("00000002.log", ["n"], 3, true), ("00000002.log", ["n"], nil, true),
  ]
  for (file, keys, line, json) in numbered {
    for key in keys {
      for v in hostileNumbers {
        m.append(
          Mutation(
            file: "acme/" + file, what: "\(key) = \(v)\(line.map { " on line \($0)" } ?? "")",
            change: setNumber(key, to: v, line: line, json: json)))
      }
    }
  }
  let every =
    [
      "stream.json", "head.json", "head.json.tmp", "00000001.log", "00000001.manifest.json", "00000001.checkpoint",
      "00000001.idx", "00000002.log", "00000002.manifest.json", "00000002.checkpoint", "00000002.idx",
    ].map { "acme/" + $0 } + ["audit/.lock", "key"]
  for file in every {
    m.append(Mutation(file: file, what: "emptied") { _ in [] })
    m.append(Mutation(file: file, what: "cut to half") { Array($0.prefix($0.count / 2)) })
    m.append(Mutation(file: file, what: "last byte cut") { Array($0.dropLast()) })
    for at in [0, 1, 2] {
      m.append(
        Mutation(file: file, what: "byte flipped at \(["start", "middle", "end"][at])") { b in
          guard !b.isEmpty else { return [0xFF] }
          var b = b
          let i = [0, b.count / 2, max(0, b.count - 2)][at]
          b[i] ^= 0xFF
          return b
        })
    }
  }
  return m
}()

/// The unmutated folder and what each command answers on it.
struct HostileReference: @unchecked Sendable {
  let runs: AuditedRuns
  let page: [UInt8]
  let failedAtDay3: Set<ID>
  /// An entry of acme's e01 and the record a checked proof of it must carry.
  let entryID: String
  let record: String
  /// `explain`'s question (recipient r09 of acme, whose suppression expired) and its history.
  let explanation: Explanation
  let history: [JSONValue]

  static let shared: Result<HostileReference, any Error> = Result {
    let runs = try AuditedRuns(runs: 2)
    let page = try AuditQuery.page(root: runs.audit, customerID: ID("acme"), enrollmentID: "e01", limit: 1000)
    let copy = try HostileCopy(of: runs)
    let r = try copy.run()
    let entryID = try #require(page.document["data"]?["entries"]?.arrayValue?.last?["id"]?.stringValue)
    let proof = try AuditProof.proveInclusion(
      root: runs.audit, customerID: ID("acme"), entryID: entryID, checkpoint: nil)
    let tenant = try #require(try Explainer.readTenant(bundle: sampleBundle, customerID: ID("acme")))
    let query = ExplainQuery(customerID: ID("acme"), recipientID: ID("r09"), enrollmentID: ID("e01"))
    guard case .success(let x) = Explainer.explain(query, tenant: tenant, asOf: sampleOptions(day: 2, out: "").asOf)
    else { throw SendplanError(.badData, code: "fixture", message: "explain failed", fix: "") }
    return HostileReference(
      runs: runs, page: page.document.render(), failedAtDay3: Set(r.tenants.filter(\.failed).map(\.customerID)),
      entryID: entryID, record: try #require(proof["record"]?.stringValue), explanation: x,
      history: try Explainer.history(x, auditDir: runs.audit))
  }
}

/// A fresh copy of the fixture's audit folder and key, and an OUT of its own.
struct HostileCopy {
  let root: URL
  let audit: String
  let key: String
  let acme: String

  init(of runs: AuditedRuns) throws {
    root = try scratchFolder("hostile")
    audit = root.appendingPathComponent("audit").path
    key = root.appendingPathComponent("key").path
    try FileManager.default.copyItem(atPath: runs.audit, toPath: audit)
    try FileManager.default.copyItem(atPath: runs.key, toPath: key)
    let names = try FileManager.default.contentsOfDirectory(atPath: audit + "/streams")
    acme = audit + "/streams/" + (names.first { $0.hasPrefix("acme-") } ?? "?")
  }

  func path(_ file: String) -> String {
    if file.hasPrefix("acme/") { return acme + "/" + file.dropFirst(5) }
    return root.appendingPathComponent(file).path
  }

  /// Day 3's run, without reports, into an OUT of its own.
  func run() throws -> RunResult {
    var options = sampleOptions(day: 3, out: root.appendingPathComponent("out").path)
    options.auditDir = audit
    options.signingKeyPath = key
    options.reports = false
    return try RunPipeline(options: options, observer: NoObserver(), clock: { 0 }).run()
  }
}

@Test("a damaged audit file gives a clean error or a correct answer", arguments: hostileMutations)
func hostileAuditFile(_ mutation: Mutation) throws {
  let ref = try HostileReference.shared.get()
  let copy = try HostileCopy(of: ref.runs)
  let path = copy.path(mutation.file)
  let before = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
  let after = mutation.change(before)
  guard after != before else { return }
  try Data(after).write(to: URL(fileURLWithPath: path))
  let inStream = mutation.file.hasPrefix("acme/") && !mutation.file.hasSuffix(".tmp")

  // Query: the same entries, or a clean error.
  do {
    let page = try AuditQuery.page(root: copy.audit, customerID: ID("acme"), enrollmentID: "e01", limit: 1000)
    let answer = String(decoding: page.document.render(), as: UTF8.self)
    #expect(answer == String(decoding: ref.page, as: UTF8.self), "a query over a damaged folder answered differently")
  } catch {
    #expect(!error.code.isEmpty)
  }

  // Prove and check-proof: a proof that checks carries the entry as sealed; else a clean error.
  do {
    let proof = try AuditProof.proveInclusion(
      root: copy.audit, customerID: ID("acme"), entryID: ref.entryID, checkpoint: nil)
    let key = AuditKeys.verifierKey(ref.runs.publicKey)
    if (try? AuditProofCheck.check(proof.render(), key: key)) != nil {
      #expect(proof["record"]?.stringValue == ref.record, "a proof from a damaged folder checks for another record")
    }
  } catch {
    #expect(!error.code.isEmpty)
  }

  // Explain's history: the same entries, or a clean error.
  do {
    let history = try Explainer.history(ref.explanation, auditDir: copy.audit)
    #expect(history == ref.history, "explain's history over a damaged folder differs")
  } catch {
    #expect(!error.code.isEmpty)
  }

  // Verify: a changed stream file is a problem (or an error naming it).
  do {
    let report = try AuditVerifier.verify(root: copy.audit, publicKey: ref.runs.publicKey)
    if inStream {
      #expect(!report.valid, "verify says a folder with a damaged \(mutation.file) is valid")
    }
  } catch {
    #expect(!error.code.isEmpty)
  }

  // Export: an archive or a clean error.
  do {
    _ = try AuditExport.archive(root: copy.audit, customerID: ID("acme"))
  } catch {
    #expect(!error.code.isEmpty)
  }

  // Run: only acme may fail, and then with a file and a code; a damaged key fails the run cleanly.
  do {
    let r = try copy.run()
    for t in r.tenants where t.failed && !ref.failedAtDay3.contains(t.customerID) {
      #expect(t.customerID == ID("acme"), "\(t.customerID.string) failed over a damaged file of acme's stream")
      let issues = t.failure?.issues ?? []
      #expect(!issues.isEmpty && issues.allSatisfy { !$0.file.isEmpty && !$0.code.isEmpty }, "\(issues)")
    }
  } catch let error as SendplanError {
    #expect(!mutation.file.hasPrefix("acme/"), "a damaged stream file failed the whole run: \(error)")
    #expect(!error.code.isEmpty)
  } catch {
    Issue.record("the run failed with an error of another type: \(error)")
  }
}
