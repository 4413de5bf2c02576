import Crypto
import Foundation
import SendplanDiagnostics
import SendplanJSON
import SendplanModel
import Testing

@testable import SendplanAudit

@Suite struct AuditProofTests {
  static func key(_ f: AuditFixture) throws -> NoteKey {
    AuditKeys.verifierKey(try #require(f.key).publicKey)
  }

  /// An entry id of acme's e01 from the second night (a skipped item, if any).
  static func entry(_ f: AuditFixture) throws -> (id: String, type: String) {
    let page = try AuditQuery.page(root: f.audit, customerID: ID("acme"), enrollmentID: "e01", limit: 1000)
    let e = try #require(page.entries.last { $0["runId"]?.stringValue == "run-20261128T020000Z" })
    return (try #require(e["id"]?.stringValue), try #require(e["eventType"]?.stringValue))
  }

  static func failure(_ bytes: [UInt8], _ key: NoteKey, witnesses: [NoteKey] = [], min: Int = 0) -> SendplanError? {
    do {
      _ = try AuditProofCheck.check(bytes, key: key, witnesses: witnesses, minWitnesses: min)
      return nil
    } catch {
      return error
    }
  }

  static func edit(_ proof: JSONValue, _ name: String, _ value: JSONValue) -> [UInt8] {
    guard case .object(var o) = proof else { return [] }
    o[name] = value
    return JSONValue.object(o).render()
  }

  @Test func checkpointsAreSignedNotes() throws {
    let f = try AuditFixture()
    let bytes = try #require(try? Data(contentsOf: URL(fileURLWithPath: f.stream("acme") + "/00000002.checkpoint")))
    let text = String(decoding: bytes, as: UTF8.self)
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    #expect(lines[0] == "sendplan.audit/acme")
    #expect(lines[3] == "segment 2")
    let k = try Self.key(f)
    #expect(lines[7] == "key " + k.text[...])
    #expect(lines[9].hasPrefix("\u{2014} sendplan.audit "))
    let cp = try #require(Checkpoint.parse(Array(bytes)))
    #expect(cp.note.signed(by: k) == true)
    #expect(cp.render() == Array(bytes))
    #expect(NoteKey.parse(k.text)?.keyHash == k.keyHash)
    // A key hash is SHA-256(name || 0x0A || 0x01 || key)[:4].
    let d = Hash32.sha256(Array("sendplan.audit\n".utf8) + [1] + Array(k.publicKey.rawRepresentation)).bytes
    #expect(String(k.text.split(separator: "+")[1]) == Hex.encode(d.prefix(4)))
  }

  @Test func legacyCheckpointsStillParseAndVerify() throws {
    let key = Curve25519.Signing.PrivateKey()
    var cp = Checkpoint(
      customerID: "acme", segment: 1, treeSize: 3, root: Hash32.sha256([1]), chainHead: Hash32.sha256([2]),
      runID: "run-1", time: "2026-11-27T02:00:00Z", signature: nil)
    cp.legacy = true
    try cp.sign(with: key)
    let bytes = cp.render()
    #expect(bytes.starts(with: Array("sendplan-audit-checkpoint/1\ncustomer 61636d65\n".utf8)))
    let back = try #require(Checkpoint.parse(bytes))
    #expect(back.legacy)
    #expect(back.signatureValid(trusted: key.publicKey))
  }

  /// A stream whose first night has legacy checkpoints (as written before the note form) and whose
  /// second night has notes verifies, and proves entries of both nights.
  @Test func mixedLegacyAndNoteStreamVerifiesAndProves() throws {
    let f = try AuditFixture(runs: 1)
    let key = try #require(f.key)
    for customer in ["acme", "globex"] {
      let path = f.stream(customer) + "/00000001.checkpoint"
      var cp = try #require(Checkpoint.parse(Array(try Data(contentsOf: URL(fileURLWithPath: path)))))
      cp.legacy = true
      try cp.sign(with: key)
      try Data(cp.render()).write(to: URL(fileURLWithPath: path))
    }
    try f.run(day: 2)
    let verified = try f.verify()
    #expect(verified.valid, "\(verified.text)")
    let page = try AuditQuery.page(root: f.audit, customerID: ID("acme"), enrollmentID: "e01", limit: 1000)
    for e in [page.entries.first, page.entries.last] {
      let id = try #require(e?["id"]?.stringValue)
      let proof = try AuditProof.proveInclusion(root: f.audit, customerID: ID("acme"), entryID: id, checkpoint: nil)
      let r = try AuditProofCheck.check(proof.render(), key: try Self.key(f))
      #expect(r.statement.contains(try #require(e?["runId"]?.stringValue)))
    }
    let legacy = f.stream("acme") + "/00000001.checkpoint"
    let c = try AuditProof.proveConsistency(root: f.audit, customerID: ID("acme"), from: legacy, to: nil)
    #expect(throws: Never.self) { try AuditProofCheck.check(c.render(), key: try Self.key(f)) }
  }

  @Test func inclusionProofChecksOffline() throws {
    let f = try AuditFixture()
    let (id, type) = try Self.entry(f)
    let proof = try AuditProof.proveInclusion(root: f.audit, customerID: ID("acme"), entryID: id, checkpoint: nil)
    let r = try AuditProofCheck.check(proof.render(), key: try Self.key(f))
    #expect(r.statement.hasPrefix("entry \(id) (\(type), "))
    #expect(r.statement.contains("run run-20261128T020000Z) is record "))
    #expect(r.statement.contains("of customer \"acme\"'s log, signed at size "))
    #expect(r.statement.hasSuffix(" on 2026-11-28T02:00:00Z"))
    // Against the first night's checkpoint the second night's entry is not there.
    let first = f.stream("acme") + "/00000001.checkpoint"
    #expect(throws: SendplanError.self) {
      try AuditProof.proveInclusion(root: f.audit, customerID: ID("acme"), entryID: id, checkpoint: first)
    }
  }

  @Test func tamperedInclusionProofsFailWithTheirReason() throws {
    let f = try AuditFixture()
    let key = try Self.key(f)
    let (id, _) = try Self.entry(f)
    let proof = try AuditProof.proveInclusion(root: f.audit, customerID: ID("acme"), entryID: id, checkpoint: nil)
    let record = try #require(proof["record"]?.stringValue)
    let index = try #require(proof["leafIndex"]?.intValue)

    // One changed byte in the record.
    var changed = Array(record.utf8)
    changed[changed.count - 3] ^= 1
    let e1 = Self.failure(Self.edit(proof, "record", .string(String(decoding: changed, as: UTF8.self))), key)
    #expect(e1?.code == "inclusion_failed")

    // One changed byte anywhere in the file, say in a hash of the audit path.
    var raw = proof.render()
    let first = Array(try #require(proof["auditPath"]?.arrayValue?.first?.stringValue).utf8)
    let at = try #require(raw.indices.first { raw[$0...].starts(with: first) })
    raw[at] = raw[at] == 0x30 ? 0x31 : 0x30
    #expect(Self.failure(raw, key)?.code == "inclusion_failed")

    // A wrong index.
    #expect(Self.failure(Self.edit(proof, "leafIndex", .int(index - 1)), key)?.code != nil)
    let wrong = Self.failure(Self.edit(proof, "leafIndex", .int(1)), key)
    #expect(wrong?.code == "wrong_index" || wrong?.code == "inclusion_failed")
    #expect(Self.failure(Self.edit(proof, "leafIndex", .int(1_000_000)), key)?.code == "wrong_index")

    // A checkpoint of another tenant.
    let globex = try String(contentsOfFile: f.stream("globex") + "/00000002.checkpoint", encoding: .utf8)
    let other = Self.failure(Self.edit(proof, "checkpoint", .string(globex)), key)
    #expect(other?.code == "checkpoint_other_customer")
    #expect(other?.message.contains("globex") == true)

    // Another key, and a changed checkpoint.
    let stranger = AuditKeys.verifierKey(Curve25519.Signing.PrivateKey().publicKey)
    #expect(Self.failure(proof.render(), stranger)?.code == "bad_signature")
    let cpText = try #require(proof["checkpoint"]?.stringValue)
    let forged = cpText.replacingOccurrences(of: "time 2026-11-28", with: "time 2026-11-29")
    #expect(Self.failure(Self.edit(proof, "checkpoint", .string(forged)), key)?.code == "bad_signature")

    // The entry id must be the record's.
    #expect(
      Self.failure(Self.edit(proof, "entryId", .string(String(repeating: "0", count: 32))), key)?.code
        == "entry_id_mismatch")
  }

  @Test func consistencyProofChecksOfflineAndCatchesARewrite() throws {
    let f = try AuditFixture()
    let key = try Self.key(f)
    let first = f.stream("acme") + "/00000001.checkpoint"
    let proof = try AuditProof.proveConsistency(root: f.audit, customerID: ID("acme"), from: first, to: nil)
    let r = try AuditProofCheck.check(proof.render(), key: key)
    #expect(r.statement.hasPrefix("customer \"acme\"'s log at size "))
    #expect(r.statement.contains("extends its log at size "))
    var path = try #require(proof["consistencyPath"]?.arrayValue)
    path[0] = .string(Hash32.sha256([9]).hex)
    #expect(Self.failure(Self.edit(proof, "consistencyPath", .array(path)), key)?.code == "not_consistent")
  }

  @Test func witnessCosignsOnlyConsistentCheckpoints() throws {
    let f = try AuditFixture(runs: 1)
    let key = try Self.key(f)
    let witness = Curve25519.Signing.PrivateKey()
    let wkey = NoteKey(name: "witness.example/w1", algorithm: NoteKey.cosignature, publicKey: witness.publicKey)
    let state = f.root.appendingPathComponent("witness").path
    let cp1Path = f.stream("acme") + "/00000001.checkpoint"
    let cp1 = Array(try Data(contentsOf: URL(fileURLWithPath: cp1Path)))
    let cosigned1 = try AuditWitness.cosign(
      checkpoint: cp1, logKey: key, witnessName: wkey.name, witnessKey: witness, stateDir: state, proof: nil,
      time: 1_796_000_000)
    let note1 = try #require(SignedNote.parse(cosigned1))
    #expect(note1.cosignature(by: wkey)?.valid == true)
    #expect(note1.cosignature(by: wkey)?.time == 1_796_000_000)
    #expect(Checkpoint.parse(cosigned1)?.note.signed(by: key) == true)
    try Data(cosigned1).write(to: URL(fileURLWithPath: cp1Path))
    let report = try AuditVerifier.verify(root: f.audit, publicKey: key.publicKey, witnesses: [wkey], minWitnesses: 1)
    #expect(report.problems.map(\.code) == ["not_enough_witnesses"])  // globex was not cosigned
    #expect(report.problems.first?.customerID == "globex")

    try f.run(day: 2)
    let cp2Path = f.stream("acme") + "/00000002.checkpoint"
    let cp2 = Array(try Data(contentsOf: URL(fileURLWithPath: cp2Path)))
    // A larger tree needs a consistency proof.
    #expect(throws: SendplanError.self) {
      try AuditWitness.cosign(
        checkpoint: cp2, logKey: key, witnessName: wkey.name, witnessKey: witness, stateDir: state, proof: nil,
        time: 1_796_100_000)
    }
    let proof = try AuditProof.proveConsistency(root: f.audit, customerID: ID("acme"), from: cp1Path, to: cp2Path)
    let cosigned2 = try AuditWitness.cosign(
      checkpoint: cp2, logKey: key, witnessName: wkey.name, witnessKey: witness, stateDir: state,
      proof: proof.render(), time: 1_796_100_000)
    try Data(cosigned2).write(to: URL(fileURLWithPath: cp2Path))
    let r2 = try AuditVerifier.verify(
      root: f.audit, customerID: ID("acme"), publicKey: key.publicKey, witnesses: [wkey], minWitnesses: 1)
    #expect(r2.problems.isEmpty, "\(r2.problems)")

    // The older checkpoint again (a rollback) is refused.
    do {
      _ = try AuditWitness.cosign(
        checkpoint: cp1, logKey: key, witnessName: wkey.name, witnessKey: witness, stateDir: state, proof: nil,
        time: 1_796_200_000)
      Issue.record("a rolled-back checkpoint was cosigned")
    } catch {
      #expect(error.code == "inconsistent_checkpoint")
    }

    // A forged cosignature fails verify and check-proof.
    var bad = Array(cosigned2)
    let last = bad.lastIndex(of: 0x3D) ?? bad.count - 3
    bad[last - 3] = bad[last - 3] == 0x41 ? 0x42 : 0x41
    try Data(bad).write(to: URL(fileURLWithPath: cp2Path))
    let r3 = try AuditVerifier.verify(root: f.audit, customerID: ID("acme"), witnesses: [wkey], minWitnesses: 1)
    #expect(r3.problems.map(\.code).contains("bad_cosignature"))
  }
}
