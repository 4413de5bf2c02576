import SendplanDiagnostics
import SendplanFileSystem
import SendplanJSON
import SendplanModel

/// Self-contained proof files (`audit prove`), checked with nothing but the file and the keys
/// (`audit check-proof`). The format, `sendplan-audit-proof/1`, is described in docs/audit.md.
package enum AuditProof {
  package static let format = "sendplan-audit-proof/1"

  /// The leaf hashes of a stream's committed records, up to `size`, and the record asked for.
  struct Leaves {
    var hashes: [Hash32] = []
    var found: (index: Int, body: [UInt8], previous: Hash32, segment: Int64)?
  }

  static func streamDir(root: String, customerID: ID) throws(SendplanError) -> (String, StreamFiles, Int64) {
    let dir = AuditLayout(root: root).streamDir(customerID)
    guard let idBytes = try FS.read(AuditLayout.identity(dir)), StreamIdentity.parse(idBytes) == customerID.string
    else {
      throw SendplanError(
        .missing, code: "stream_not_found", path: dir,
        message: "no audit stream for customer \(customerID.string.debugDescription)",
        fix: "check the customer id and the audit folder")
    }
    let files = try StreamFiles.scan(dir)
    return (dir, files, try files.committed(dir).segment)
  }

  static func readCheckpoint(_ path: String, customerID: String) throws(SendplanError) -> Checkpoint {
    let cp = try AuditVerifier.loadCheckpoint(path)
    guard cp.customerID == customerID else {
      throw SendplanError(
        .badData, code: "checkpoint_other_customer", path: path,
        message:
          "the checkpoint belongs to customer \(cp.customerID.debugDescription), not to \(customerID.debugDescription)",
        fix: "pass a checkpoint of this customer's stream")
    }
    return cp
  }

  /// Reads records from the start of the stream until `size` leaves are hashed, looking for `entryID`.
  static func leaves(dir: String, customerID: String, size: Int64, entryID: String?) throws(SendplanError) -> Leaves {
    var out = Leaves()
    out.hashes.reserveCapacity(Int(size))
    var chain = Hash32.zero
    var n: Int64 = 1
    let scratch = ByteWriter(capacity: 1024)
    let tail = 6 + RecordEncoder.tagLength + 2
    while Int64(out.hashes.count) < size {
      let path = AuditLayout.segment(dir, n)
      guard let bytes = try FS.read(path) else {
        throw SendplanError(
          .badData, code: "segment_missing", path: path, message: "segment \(n) is missing",
          fix: "verify the audit folder")
      }
      var runID = ""
      var start = 0
      while start < bytes.count, Int64(out.hashes.count) < size {
        guard let nl = bytes[start...].firstIndex(of: 0x0A) else { break }
        let line = bytes[start..<nl]
        let d: (record: Record, hash: Hash32, tagOK: Bool)
        do throws(RecordDecoder.Problem) {
          d = try RecordDecoder.decode(line, previous: chain, scratch: scratch)
        } catch {
          throw AuditQuery.damaged(path, "a record is malformed")
        }
        guard d.tagOK, d.record.seq == Int64(out.hashes.count) else {
          throw AuditQuery.damaged(path, "record \(d.record.seq) does not match its hash or place")
        }
        switch d.record {
        case .header(let h): runID = h.runID
        case .event(let e):
          if let entryID, out.found == nil,
            AuditQuery.entryID(
              customerID: customerID, runID: runID, enrollmentID: e.enrollmentID, type: e.type.rawValue,
              step: e.stepOrder, recipient: e.recipientID) == entryID
          {
            out.found = (out.hashes.count, Array(line[..<(nl - tail)]) + [0x7D], chain, n)
          }
        }
        out.hashes.append(d.hash)
        chain = d.hash
        start = nl + 1
      }
      n += 1
    }
    return out
  }

  static func hexList(_ hashes: [Hash32]) -> JSONValue { .array(hashes.map { .string($0.hex) }) }

  static func checkpointFile(_ dir: String, _ n: Int64) throws(SendplanError) -> Checkpoint {
    let path = AuditLayout.checkpoint(dir, n)
    guard let b = try FS.read(path), let cp = Checkpoint.parse(b) else {
      throw SendplanError(
        .badData, code: "checkpoint_unreadable", path: path, message: "the checkpoint is missing or not valid",
        fix: "verify the audit folder")
    }
    return cp
  }

  /// The target checkpoint: the one given, or the stream's last committed one.
  static func target(_ path: String?, dir: String, committed: Int64, customerID: String) throws(SendplanError)
    -> Checkpoint
  {
    if let path { return try readCheckpoint(path, customerID: customerID) }
    guard committed > 0 else {
      throw SendplanError(
        .missing, code: "stream_empty", path: dir, message: "the stream has no sealed run yet",
        fix: "run an audited run first")
    }
    return try checkpointFile(dir, committed)
  }

  static func mismatch(_ cp: Checkpoint) -> SendplanError {
    SendplanError(
      .badData, code: "checkpoint_not_in_stream", path: "",
      message: "the checkpoint (size \(cp.treeSize)) does not match this stream's records at that size",
      fix: "pass a checkpoint of this stream; verify the audit folder")
  }

  /// An inclusion proof of entry `entryID` in the tree of the target checkpoint.
  package static func proveInclusion(
    root: String, customerID: ID, entryID: String, checkpoint: String?
  ) throws(SendplanError) -> JSONValue {
    let (dir, _, committed) = try streamDir(root: root, customerID: customerID)
    let target = try target(checkpoint, dir: dir, committed: committed, customerID: customerID.string)
    let leaves = try leaves(dir: dir, customerID: customerID.string, size: target.treeSize, entryID: entryID)
    guard MerkleProof.root(leaves.hashes) == target.root else { throw mismatch(target) }
    guard let found = leaves.found else {
      throw SendplanError(
        .missing, code: "entry_not_found", path: dir,
        message: "no entry \(entryID) in the first \(target.treeSize) records of the stream",
        fix: "take the id from audit query; pass a checkpoint at or after the entry's run")
    }
    let segmentCP = try checkpointFile(dir, found.segment)
    let previousCP = found.segment > 1 ? try checkpointFile(dir, found.segment - 1) : nil
    var o: [String: JSONValue] = [
      "format": .string(format),
      "kind": .string("inclusion"),
      "customerId": .string(customerID.string),
      "entryId": .string(entryID),
      "leafIndex": .int(Int64(found.index)),
      "record": .string(String(decoding: found.body, as: UTF8.self)),
      "previousHash": .string(found.previous.hex),
      "checkpoint": .string(String(decoding: target.render(), as: UTF8.self)),
      "auditPath": hexList(MerkleProof.inclusion(leaves.hashes, index: found.index, size: leaves.hashes.count) ?? []),
      "segmentCheckpoint": .string(String(decoding: segmentCP.render(), as: UTF8.self)),
      "segmentConsistency": hexList(
        MerkleProof.consistency(leaves.hashes, old: Int(segmentCP.treeSize), size: leaves.hashes.count) ?? []),
    ]
    if let p = previousCP {
      o["previousCheckpoint"] = .string(String(decoding: p.render(), as: UTF8.self))
      o["previousConsistency"] = hexList(
        MerkleProof.consistency(leaves.hashes, old: Int(p.treeSize), size: leaves.hashes.count) ?? [])
    }
    guard segmentCP.treeSize <= target.treeSize else { throw mismatch(segmentCP) }
    return .object(o)
  }

  /// A consistency proof from checkpoint `from` to `to` (default: the stream's last committed one).
  package static func proveConsistency(
    root: String, customerID: ID, from: String, to: String?
  ) throws(SendplanError) -> JSONValue {
    let (dir, _, committed) = try streamDir(root: root, customerID: customerID)
    let old = try readCheckpoint(from, customerID: customerID.string)
    let new = try target(to, dir: dir, committed: committed, customerID: customerID.string)
    guard old.treeSize <= new.treeSize else {
      throw SendplanError(
        .usage, code: "checkpoints_out_of_order", path: from,
        message: "the --from checkpoint (size \(old.treeSize)) is larger than the --to one (size \(new.treeSize))",
        fix: "pass the older checkpoint as --from")
    }
    let leaves = try leaves(dir: dir, customerID: customerID.string, size: new.treeSize, entryID: nil)
    guard MerkleProof.root(leaves.hashes) == new.root else { throw mismatch(new) }
    guard MerkleProof.root(Array(leaves.hashes[..<Int(old.treeSize)])) == old.root else { throw mismatch(old) }
    return .object([
      "format": .string(format),
      "kind": .string("consistency"),
      "customerId": .string(customerID.string),
      "from": .string(String(decoding: old.render(), as: UTF8.self)),
      "to": .string(String(decoding: new.render(), as: UTF8.self)),
      "consistencyPath": hexList(
        MerkleProof.consistency(leaves.hashes, old: Int(old.treeSize), size: Int(new.treeSize)) ?? []),
    ])
  }
}

extension MerkleProof {
  /// MTH over all `leaves`.
  static func root(_ leaves: [Hash32]) -> Hash32 {
    leaves.withUnsafeBufferPointer { root($0, 0, $0.count) }
  }
}
