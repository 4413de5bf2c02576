import Crypto
import SendplanDiagnostics
import SendplanFileSystem
import SendplanJSON
import SendplanModel

/// A minimal witness (`audit cosign`): cosigns a checkpoint only when it is consistent with the
/// last one it cosigned for the same log, which it keeps in its own state folder as
/// `<first 16 hex digits of SHA-256(origin)>.checkpoint`.
package enum AuditWitness {
  static func refuse(_ code: String, _ message: String, fix: String) -> SendplanError {
    SendplanError(.badData, code: code, path: "", message: message, fix: fix)
  }

  package static func statePath(_ stateDir: String, origin: String) -> String {
    stateDir + "/" + String(Hash32.sha256(Array(origin.utf8)).hex.prefix(16)) + ".checkpoint"
  }

  /// The cosigned checkpoint (the input with one more signature line), after updating the state.
  /// `proof` is a consistency proof file from the last cosigned checkpoint to this one, needed when
  /// the tree grew.
  package static func cosign(
    checkpoint bytes: [UInt8], logKey: NoteKey, witnessName: String, witnessKey: Curve25519.Signing.PrivateKey,
    stateDir: String, proof: [UInt8]?, time: UInt64
  ) throws(SendplanError) -> [UInt8] {
    guard let cp = Checkpoint.parse(bytes), !cp.legacy else {
      throw refuse(
        "checkpoint_unreadable", "not a sendplan checkpoint note (legacy checkpoints cannot be cosigned)",
        fix: "pass a .checkpoint written by this version")
    }
    guard cp.note.signed(by: logKey) == true else {
      throw refuse(
        "bad_signature", "the checkpoint is not signed by the log key \(logKey.text)",
        fix: "check --public-key; never cosign what the log did not sign")
    }
    if !FS.isDirectory(stateDir) { try FS.makeDirectory(stateDir, existingOK: true) }
    let state = statePath(stateDir, origin: cp.origin)
    if let lastBytes = try FS.read(state) {
      guard let last = Checkpoint.parse(lastBytes), last.customerID == cp.customerID else {
        throw refuse(
          "witness_state_unreadable", "the witness state \(state) is not a checkpoint of this log",
          fix: "restore the state folder from backup; do not delete it")
      }
      if cp.treeSize < last.treeSize {
        throw refuse(
          "inconsistent_checkpoint",
          "refusing to cosign: the checkpoint has \(cp.treeSize) records, but this witness already cosigned "
            + "\(last.treeSize) records of \(cp.origin): the log was rolled back",
          fix: "report it to the log operator; keep the witness state")
      }
      if cp.treeSize == last.treeSize {
        guard cp.root == last.root else {
          throw refuse(
            "inconsistent_checkpoint",
            "refusing to cosign: at size \(cp.treeSize) this witness cosigned another root for \(cp.origin): "
              + "the log forked",
            fix: "report it to the log operator; keep the witness state")
        }
      } else {
        guard let proof else {
          throw refuse(
            "consistency_proof_needed",
            "the tree grew from \(last.treeSize) to \(cp.treeSize) records since the last cosignature; "
              + "a consistency proof is needed",
            fix: "pass --proof with the output of audit prove --from <last cosigned checkpoint> --to <this one>")
        }
        guard let v = try? JSONParse.parse(proof), v["kind"]?.stringValue == "consistency",
          let from = v["from"]?.stringValue.flatMap({ Checkpoint.parse(Array($0.utf8)) }),
          let to = v["to"]?.stringValue.flatMap({ Checkpoint.parse(Array($0.utf8)) }),
          let list = v["consistencyPath"]?.arrayValue
        else {
          throw refuse(
            "proof_malformed", "the --proof file is not a consistency proof", fix: "pass audit prove's output")
        }
        var path: [Hash32] = []
        for h in list {
          guard let x = h.stringValue.flatMap(Hash32.init(hex:)) else {
            throw refuse("proof_malformed", "the --proof file holds a bad hash", fix: "pass audit prove's output")
          }
          path.append(x)
        }
        guard from.treeSize == last.treeSize, from.root == last.root, to.treeSize == cp.treeSize, to.root == cp.root,
          MerkleProof.verifyConsistency(
            old: last.treeSize, oldRoot: last.root, size: cp.treeSize, newRoot: cp.root, path: path)
        else {
          throw refuse(
            "inconsistent_checkpoint",
            "refusing to cosign: the proof does not show that this checkpoint (size \(cp.treeSize)) extends the one "
              + "this witness last cosigned (size \(last.treeSize))",
            fix: "report it to the log operator; keep the witness state")
        }
      }
    }
    var note = cp.note
    do {
      try note.cosign(witnessKey, name: witnessName, time: time)
    } catch {
      throw refuse("sign_failed", "cannot cosign: \(error)", fix: "check the witness key")
    }
    let out = note.render()
    try FS.writeFile(state + ".tmp", out, faults: nil)
    try FS.rename(state + ".tmp", state, faults: nil)
    try FS.syncDirectory(stateDir)
    return out
  }
}
