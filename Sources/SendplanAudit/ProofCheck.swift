import SendplanDiagnostics
import SendplanJSON
import SendplanModel

/// Checks a proof file with nothing but its bytes and the keys: no audit folder.
package enum AuditProofCheck {
  /// What a checked proof established.
  package struct Result: Sendable {
    /// One sentence.
    package var statement: String
  }

  static func fail(_ code: String, _ message: String) -> SendplanError {
    SendplanError(
      .badData, code: code, path: "", message: message,
      fix: "ask the log operator for a new proof; do not trust this one")
  }

  static func hashes(_ v: JSONValue?, _ name: String) throws(SendplanError) -> [Hash32] {
    guard let list = v?.arrayValue else { throw fail("proof_malformed", "the proof has no \(name) list") }
    var out: [Hash32] = []
    for h in list {
      guard let x = h.stringValue.flatMap(Hash32.init(hex:)) else {
        throw fail("proof_malformed", "\(name) holds something that is not a 64-digit hex hash")
      }
      out.append(x)
    }
    return out
  }

  /// Parses a checkpoint of the proof, checks it is the customer's and signed by `key`, and counts
  /// the witnesses that cosigned it.
  static func checkpoint(
    _ v: JSONValue?, _ what: String, customerID: String, key: NoteKey, witnesses: [NoteKey]
  ) throws(SendplanError) -> (Checkpoint, witnesses: Int) {
    guard let text = v?.stringValue, let cp = Checkpoint.parse(Array(text.utf8)) else {
      throw fail("checkpoint_unreadable", "the \(what) is not a sendplan checkpoint")
    }
    guard cp.customerID == customerID else {
      throw fail(
        "checkpoint_other_customer",
        "the \(what) is of customer \(cp.customerID.debugDescription)'s log (origin \(cp.origin)), "
          + "not of \(customerID.debugDescription)'s")
    }
    guard let sig = cp.signature else { throw fail("checkpoint_unsigned", "the \(what) is not signed") }
    if cp.legacy {
      guard sig.publicKey == Array(key.publicKey.rawRepresentation), cp.signatureValid(trusted: key.publicKey) else {
        throw fail("bad_signature", "the \(what) is not signed by the key \(key.text)")
      }
      return (cp, 0)
    }
    guard cp.note.signed(by: key) == true else {
      throw fail("bad_signature", "the \(what) has no valid signature by the key \(key.text)")
    }
    var n = 0
    for w in witnesses {
      if let c = cp.note.cosignature(by: w) {
        guard c.valid else {
          throw fail("bad_cosignature", "the cosignature of witness \(w.name) on the \(what) is not valid")
        }
        n += 1
      }
    }
    return (cp, n)
  }

  static func requireWitnesses(_ found: Int, _ needed: Int, _ what: String) throws(SendplanError) {
    if found < needed {
      throw fail(
        "not_enough_witnesses",
        "the \(what) carries \(found) valid cosignature\(found == 1 ? "" : "s") of the given witnesses; \(needed) required"
      )
    }
  }

  package static func check(
    _ bytes: [UInt8], key: NoteKey, witnesses: [NoteKey] = [], minWitnesses: Int = 0
  ) throws(SendplanError) -> Result {
    guard let v = try? JSONParse.parse(bytes), v["format"]?.stringValue == AuditProof.format,
      let kind = v["kind"]?.stringValue, let customer = v["customerId"]?.stringValue
    else { throw fail("proof_malformed", "not a \(AuditProof.format) file") }
    switch kind {
    case "inclusion": return try inclusion(v, customer: customer, key: key, witnesses: witnesses, min: minWitnesses)
    case "consistency":
      return try consistency(v, customer: customer, key: key, witnesses: witnesses, min: minWitnesses)
    default: throw fail("proof_malformed", "unknown proof kind \(kind.debugDescription)")
    }
  }

  static func inclusion(
    _ v: JSONValue, customer: String, key: NoteKey, witnesses: [NoteKey], min: Int
  ) throws(SendplanError) -> Result {
    let (cp, seen) = try checkpoint(v["checkpoint"], "checkpoint", customerID: customer, key: key, witnesses: witnesses)
    try requireWitnesses(seen, min, "checkpoint")
    guard let index = v["leafIndex"]?.intValue, let record = v["record"]?.stringValue,
      let prev = v["previousHash"]?.stringValue.flatMap(Hash32.init(hex:)), let entryID = v["entryId"]?.stringValue
    else { throw fail("proof_malformed", "the proof lacks leafIndex, record, previousHash or entryId") }
    let path = try hashes(v["auditPath"], "auditPath")
    guard index >= 0, index < cp.treeSize else {
      throw fail("wrong_index", "record index \(index) is outside the checkpoint's tree of \(cp.treeSize) records")
    }
    let want = MerkleProof.inclusionLength(index: index, size: cp.treeSize)
    guard path.count == want else {
      throw fail(
        "wrong_index",
        "the audit path has \(path.count) hashes, but record \(index) of a tree of \(cp.treeSize) needs \(want): "
          + "wrong index or tree size")
    }
    let leaf = Hash32.leaf(Array(record.utf8) + prev.bytes)
    guard MerkleProof.rootFromInclusion(leaf: leaf, index: index, size: cp.treeSize, path: path) == cp.root else {
      throw fail(
        "inclusion_failed",
        "record \(index) with this content and audit path does not lead to the checkpoint's root: "
          + "the record, its previous hash, its index or the path was changed")
    }
    // Which run the record belongs to: the signed checkpoints of its segment and the one before
    // bound it, and both must be earlier states of the same tree.
    let (seg, _) = try checkpoint(
      v["segmentCheckpoint"], "segment checkpoint", customerID: customer, key: key, witnesses: [])
    try consistent(seg, cp, try hashes(v["segmentConsistency"], "segmentConsistency"), "segment checkpoint")
    var first: Int64 = 0
    if seg.segment > 1 {
      let (prevCP, _) = try checkpoint(
        v["previousCheckpoint"], "previous segment's checkpoint", customerID: customer, key: key, witnesses: [])
      guard prevCP.segment == seg.segment - 1 else {
        throw fail("proof_malformed", "the previous checkpoint is of segment \(prevCP.segment), not \(seg.segment - 1)")
      }
      try consistent(prevCP, cp, try hashes(v["previousConsistency"], "previousConsistency"), "previous checkpoint")
      first = prevCP.treeSize
    }
    guard index >= first, index < seg.treeSize else {
      throw fail(
        "wrong_index",
        "record \(index) is not in segment \(seg.segment) (records \(first) to \(seg.treeSize - 1)): wrong index")
    }
    guard let r = try? JSONParse.parse(Array(record.utf8)), r["n"]?.intValue == index,
      let type = r["t"]?.stringValue, let enrollment = r["e"]?.stringValue
    else {
      throw fail("record_mismatch", "the record is not an event record numbered \(index)")
    }
    let step = r["s"]?.intValue
    let recipient = r["r"]?.stringValue
    let computed = AuditQuery.entryID(
      customerID: customer, runID: seg.runID, enrollmentID: enrollment, type: type, step: step, recipient: recipient)
    guard computed == entryID else {
      throw fail("entry_id_mismatch", "the record's entry id is \(computed), not \(entryID)")
    }
    var what = [type]
    if let reason = r["reason"]?.stringValue { what.append(reason) }
    what.append("enrollment \(enrollment)")
    if let step { what.append("step \(step)") }
    if let recipient { what.append("recipient \(recipient)") }
    what.append("run \(seg.runID)")
    let witnessText = witnesses.isEmpty ? "" : ", cosigned by \(seen) of \(witnesses.count) witnesses"
    return Result(
      statement:
        "entry \(entryID) (\(what.joined(separator: ", "))) is record \(index) of customer "
        + "\(customer.debugDescription)'s log, signed at size \(cp.treeSize) on \(cp.time)\(witnessText)")
  }

  static func consistent(_ old: Checkpoint, _ new: Checkpoint, _ path: [Hash32], _ what: String) throws(SendplanError) {
    guard old.treeSize <= new.treeSize else {
      throw fail("not_consistent", "the \(what) (size \(old.treeSize)) is larger than the tree it should be part of")
    }
    guard
      MerkleProof.verifyConsistency(
        old: old.treeSize, oldRoot: old.root, size: new.treeSize, newRoot: new.root, path: path)
    else {
      throw fail(
        "not_consistent",
        "the consistency proof from size \(old.treeSize) to \(new.treeSize) does not hold: "
          + "the \(what)'s tree is not a prefix of the later one (history rewritten, or the proof changed)")
    }
  }

  static func consistency(
    _ v: JSONValue, customer: String, key: NoteKey, witnesses: [NoteKey], min: Int
  ) throws(SendplanError) -> Result {
    let (old, _) = try checkpoint(v["from"], "older checkpoint", customerID: customer, key: key, witnesses: [])
    let (new, seen) = try checkpoint(v["to"], "newer checkpoint", customerID: customer, key: key, witnesses: witnesses)
    try requireWitnesses(seen, min, "newer checkpoint")
    try consistent(old, new, try hashes(v["consistencyPath"], "consistencyPath"), "older checkpoint")
    let witnessText = witnesses.isEmpty ? "" : ", cosigned by \(seen) of \(witnesses.count) witnesses"
    return Result(
      statement:
        "customer \(customer.debugDescription)'s log at size \(new.treeSize) (signed on \(new.time)\(witnessText)) "
        + "extends its log at size \(old.treeSize) (signed on \(old.time)): those \(old.treeSize) records are unchanged"
    )
  }
}
