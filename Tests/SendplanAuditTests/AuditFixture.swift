import Crypto
import Foundation
import SendplanAudit
import SendplanEngine
import SendplanInput
import SendplanModel
import SendplanTestSupport
import Testing

/// The run id the nightly job derives from its as-of time.
func runID(_ asOf: Timestamp) -> String { "run-" + asOf.compact }

/// An audit folder with sealed runs of the sample bundle (day n is as of 2026-11-(26+n)T02:00:00Z),
/// written through ``AuditWriter`` the way a run writes them: take the lock, prepare every tenant's
/// stream, append each tenant's plan, commit.
struct AuditFixture {
  let root: URL
  let audit: String
  let key: Curve25519.Signing.PrivateKey?

  init(runs: Int = 2, signed: Bool = true) throws {
    root = try scratchFolder("audit")
    audit = root.appendingPathComponent("audit").path
    key = signed ? Curve25519.Signing.PrivateKey() : nil
    for day in 0..<runs { try run(day: day + 1) }
  }

  /// One nightly run's audit side; throws what the writer throws.
  @discardableResult
  func run(day: Int) throws -> AuditSummary {
    let asOf = try #require(Timestamp.parse("2026-11-\(26 + day)T02:00:00Z"))
    let writer = try AuditWriter(root: audit, runID: runID(asOf), asOf: asOf, key: key)
    let bundle = try BundleReader.read(path: sampleBundle)
    var alreadySealed = 0
    for (tenant, preparation) in zip(bundle.tenants, writer.prepare(bundle.tenants.map(\.customerID))) {
      switch preparation {
      case .ready: try writer.append(Planner.plan(tenant, asOf: asOf).get())
      case .alreadySealed: alreadySealed += 1
      case .refused(let error): throw error
      }
    }
    return try writer.commit(alreadySealed: alreadySealed)
  }

  func stream(_ customer: String) -> String {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: audit + "/streams")) ?? []
    return audit + "/streams/" + (names.first { $0.hasPrefix(customer + "-") } ?? "?")
  }

  /// Verifies the folder against the fixture's public key (or `publicKey`) and `trusted` checkpoint files.
  func verify(trusted: [String] = [], publicKey: Curve25519.Signing.PublicKey? = nil) throws -> Verified {
    var checkpoints: [Checkpoint] = []
    for t in trusted { checkpoints.append(try AuditVerifier.loadCheckpoint(t)) }
    return Verified(
      report: try AuditVerifier.verify(root: audit, publicKey: publicKey ?? key?.publicKey, trusted: checkpoints))
  }

  func lines(_ path: String) throws -> [String] {
    try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
      .map(String.init)
  }

  func write(_ path: String, _ lines: [String]) throws {
    try lines.joined(separator: "\n").write(toFile: path, atomically: false, encoding: .utf8)
  }
}

/// A verify report, and the text of it that `audit verify` prints.
struct Verified {
  let report: VerifyReport
  var valid: Bool { report.valid }

  /// One `FAIL path: message [code]` line per problem, the notes, then the summary.
  var text: String {
    (report.problems.map { "FAIL \($0.path): \($0.message) [\($0.code)]" } + report.notes.map { "note: \($0)" }
      + [report.summary]).joined(separator: "\n")
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
