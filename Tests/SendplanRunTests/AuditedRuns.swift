import Crypto
import Foundation
import SendplanAudit
import SendplanDiagnostics
import SendplanFileSystem
import SendplanModel
import SendplanRun
import SendplanTestSupport
import Testing

/// Receives a run's events and does nothing with them.
struct NoObserver: RunObserver {
  func observe(_ event: RunEvent) {}
}

/// The sample bundle's options as of day `day` (2026-11-(26+day)T02:00:00Z), with the default run id,
/// without fsync (as the CLI tests ran with `--no-fsync`).
func sampleOptions(day: Int = 1, out: String) -> RunOptions {
  let asOf = Timestamp.parse("2026-11-\(26 + day)T02:00:00Z") ?? Timestamp(seconds: 0)
  return RunOptions(
    input: sampleBundle, out: out, asOf: asOf, runID: RunOptions.defaultRunID(asOf: asOf), sync: false)
}

/// An audit folder, a signing key and an OUT beside them, filled by whole runs of the sample bundle
/// through ``RunPipeline``, as the nightly job makes them.
struct AuditedRuns {
  let root: URL
  let audit: String
  let key: String
  let out: String
  let publicKey: Curve25519.Signing.PublicKey

  init(runs: Int = 2) throws {
    root = try scratchFolder("audited")
    audit = root.appendingPathComponent("audit").path
    key = root.appendingPathComponent("key").path
    out = root.appendingPathComponent("out").path
    let k = Curve25519.Signing.PrivateKey()
    try Data(AuditKeys.privateKeyFile(k)).write(to: URL(fileURLWithPath: key))
    try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: key)
    publicKey = k.publicKey
    for day in 0..<runs { try run(day: day + 1) }
  }

  /// A signed, audited run of day `day`; throws what the pipeline throws.
  @discardableResult
  func run(day: Int, faults: FaultPoints? = nil, observer: any RunObserver = NoObserver()) throws -> RunResult {
    var options = sampleOptions(day: day, out: out)
    options.auditDir = audit
    options.signingKeyPath = key
    options.faults = faults
    return try RunPipeline(options: options, observer: observer, clock: { 0 }).run()
  }

  /// A run that must fail: the error it ends with.
  func failingRun(day: Int, faults: FaultPoints? = nil) -> SendplanError? {
    do {
      let r = try run(day: day, faults: faults)
      Issue.record("the run finished: \(r.tenants.count) tenants, stopped \(r.stopped)")
      return nil
    } catch let e as SendplanError {
      return e
    } catch {
      Issue.record("not a SendplanError: \(error)")
      return nil
    }
  }

  func stream(_ customer: String) -> String {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: audit + "/streams")) ?? []
    return audit + "/streams/" + (names.first { $0.hasPrefix(customer + "-") } ?? "?")
  }

  /// Checks the folder against the run's public key.
  func verify() throws -> VerifyReport {
    try AuditVerifier.verify(root: audit, publicKey: publicKey)
  }

  func lines(_ path: String) throws -> [String] {
    try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
      .map(String.init)
  }

  func write(_ path: String, _ lines: [String]) throws {
    try lines.joined(separator: "\n").write(toFile: path, atomically: false, encoding: .utf8)
  }

  /// Every event id of a customer's stream, from its export.
  func eventIDs(_ customer: String) throws -> [String] {
    let data = try AuditExport.archive(root: audit, customerID: ID(customer))
    // entries.jsonl is the second member.
    let readmeSize = Int(String(decoding: data[124..<135], as: UTF8.self), radix: 8) ?? 0
    let second = 512 + (readmeSize + 511) / 512 * 512
    let size = Int(String(decoding: data[(second + 124)..<(second + 135)], as: UTF8.self), radix: 8) ?? 0
    let body = String(decoding: data[(second + 512)..<(second + 512 + size)], as: UTF8.self)
    return body.split(separator: "\n").compactMap {
      (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["id"] as? String
    }
  }

  /// The number of durability steps of a first run, and the step of the first file-system sync in the
  /// audit commit: every segment and seal file is written, nothing committed.
  static func steps() throws -> (all: Int, precommit: Int) {
    let counter = FaultPoints()
    try AuditedRuns(runs: 0).run(day: 1, faults: counter)
    #expect(counter.steps > 8, "\(counter.steps)")
    return (counter.steps, counter.steps - 7)
  }
}
