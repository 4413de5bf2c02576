import Crypto
import Dispatch
import SendplanDiagnostics
import SendplanFileSystem
import SendplanJSON
import SendplanModel
import Synchronization

/// swift-crypto's key type is immutable but not marked Sendable.
struct KeyBox: @unchecked Sendable {
  let key: Curve25519.Signing.PublicKey?
}

/// One thing `audit verify` found wrong.
package struct VerifyProblem: Sendable, Equatable {
  package var customerID: String
  /// File, with `:line` when a record is at fault.
  package var path: String
  package var code: String
  package var message: String
  /// A problem of a derived file (an index or head.json), which sendplan rebuilds or checks
  /// against the seals and never trusts: the records and seals themselves may still be intact.
  package var derived = false
}

/// What `audit verify` found.
package struct VerifyReport: Sendable {
  package var streams = 0
  package var runsTotal = 0
  package var runsValid = 0
  package var recordsChecked: Int64 = 0
  package var recordsModified = 0
  package var problems: [VerifyProblem] = []
  /// Facts worth knowing that are not problems, such as unsigned checkpoints.
  package var notes: [String] = []

  package var valid: Bool { problems.isEmpty }

  package var summary: String {
    let derived = problems.filter(\.derived).count
    return "Results: \(runsValid)/\(runsTotal) runs valid, \(recordsModified) records modified, "
      + "\(problems.count) problem\(problems.count == 1 ? "" : "s") in \(streams) stream\(streams == 1 ? "" : "s")"
      + (derived > 0 ? " (\(derived) in derived files)" : "")
  }

  package func json() -> JSONValue {
    .object([
      "valid": .bool(valid),
      "streams": .int(Int64(streams)),
      "runs": .object(["total": .int(Int64(runsTotal)), "valid": .int(Int64(runsValid))]),
      "recordsChecked": .int(recordsChecked),
      "recordsModified": .int(Int64(recordsModified)),
      "problems": .array(
        problems.map {
          .object([
            "customerId": .string($0.customerID), "path": .string($0.path), "code": .string($0.code),
            "message": .string($0.message), "class": .string($0.derived ? "derived" : "evidence"),
          ])
        }),
      "notes": .array(notes.map { .string($0) }),
    ])
  }
}

/// Checks audit streams end to end: every record, link, segment, manifest, checkpoint, signature and root.
package enum AuditVerifier {
  /// Reads a checkpoint file exported earlier, to check the streams have not been rolled back or forked.
  package static func loadCheckpoint(_ path: String) throws(SendplanError) -> Checkpoint {
    guard let bytes = try FS.read(path) else {
      throw SendplanError(
        .missing, code: "checkpoint_missing", path: path, message: "the trusted checkpoint file does not exist",
        fix: "pass a .checkpoint file kept from an earlier run")
    }
    guard let cp = Checkpoint.parse(bytes) else {
      throw SendplanError(
        .badData, code: "checkpoint_unreadable", path: path, message: "not a sendplan checkpoint",
        fix: "pass a .checkpoint file copied from a stream folder")
    }
    return cp
  }

  package static func verify(
    root: String, customerID: ID? = nil, publicKey: Curve25519.Signing.PublicKey? = nil,
    trusted: [Checkpoint] = [], witnesses: [NoteKey] = [], minWitnesses: Int = 0
  ) throws(SendplanError) -> VerifyReport {
    let layout = AuditLayout(root: root)
    var report = VerifyReport()
    let folders: [String]
    if let customerID {
      let dir = layout.streamDir(customerID)
      guard FS.isDirectory(dir) else {
        throw SendplanError(
          .missing, code: "stream_not_found", path: layout.streams,
          message: "no audit stream for customer \(customerID.string.debugDescription)",
          fix: "check the customer id and the audit folder")
      }
      folders = [FolderName.of(customerID)]
    } else {
      guard FS.isDirectory(layout.streams) else {
        throw SendplanError(
          .missing, code: "audit_dir_missing", path: layout.streams, message: "not an audit folder (no streams/)",
          fix: "pass the audit folder the nightly run writes to")
      }
      folders = try FS.list(layout.streams)
    }
    var seenCustomers: Set<String> = []
    // Streams are independent: check them in parallel, then merge in folder order.
    let key = KeyBox(key: publicKey)
    let witnessKeys = WitnessBox(keys: witnesses, min: minWitnesses)
    let parts = Mutex<[(VerifyReport, Set<String>, SendplanError?)?]>(Array(repeating: nil, count: folders.count))
    DispatchQueue.concurrentPerform(iterations: folders.count) { i in
      var r = VerifyReport()
      var seen = Set<String>()
      var failure: SendplanError?
      do throws(SendplanError) {
        try verifyStream(
          layout.streams + "/" + folders[i], folder: folders[i], publicKey: key.key, trusted: trusted, report: &r,
          seen: &seen)
        try verifyWitnesses(layout.streams + "/" + folders[i], witnessKeys, report: &r)
      } catch {
        failure = error
      }
      parts.withLock { $0[i] = (r, seen, failure) }
    }
    for part in parts.withLock({ $0 }) {
      guard let (r, seen, failure) = part else { continue }
      if let failure { throw failure }
      report.streams += r.streams
      report.runsTotal += r.runsTotal
      report.runsValid += r.runsValid
      report.recordsChecked += r.recordsChecked
      report.recordsModified += r.recordsModified
      report.problems += r.problems
      report.notes += r.notes
      seenCustomers.formUnion(seen)
    }
    for cp in trusted where !seenCustomers.contains(cp.customerID) {
      if customerID == nil || customerID?.string == cp.customerID {
        report.problems.append(
          VerifyProblem(
            customerID: cp.customerID, path: layout.streams, code: "stream_deleted",
            message: "a trusted checkpoint names this customer's stream (size \(cp.treeSize)), but the stream is gone"))
      }
    }
    return report
  }

  static func verifyStream(
    _ dir: String, folder: String, publicKey: Curve25519.Signing.PublicKey?, trusted: [Checkpoint],
    report: inout VerifyReport, seen: inout Set<String>
  ) throws(SendplanError) {
    report.streams += 1
    var customer = "?"
    func problem(_ path: String, _ code: String, _ message: String, derived: Bool = false) {
      report.problems.append(
        VerifyProblem(customerID: customer, path: path, code: code, message: message, derived: derived))
    }
    /// Problems that make a run invalid: those of derived files do not.
    func evidenceProblems() -> Int { report.problems.count(where: { !$0.derived }) }
    guard let idBytes = try FS.read(AuditLayout.identity(dir)), let owner = StreamIdentity.parse(idBytes) else {
      problem(AuditLayout.identity(dir), "stream_identity_missing", "stream.json is missing or unreadable")
      return
    }
    customer = owner
    seen.insert(owner)
    if idBytes != StreamIdentity.render(owner) {
      problem(
        AuditLayout.identity(dir), "stream_identity_edited", "stream.json is not in the exact form sendplan writes")
    }
    if FolderName.of(ID(owner)) != folder {
      problem(dir, "stream_folder_mismatch", "the folder name does not belong to customer \(owner.debugDescription)")
    }
    let files = try StreamFiles.scan(dir)
    for name in files.unknown { problem(dir + "/" + name, "unexpected_file", "a file that sendplan never writes") }
    let last = max(files.lastLog, files.manifests.max() ?? 0, files.checkpoints.max() ?? 0)
    let myTrusted = trusted.filter { $0.customerID == owner }
    for cp in myTrusted {
      if let publicKey, !cp.signatureValid(trusted: publicKey) {
        problem("trusted checkpoint", "trusted_checkpoint_signature", "the trusted checkpoint's signature is not valid")
      }
    }
    var chain = Hash32.zero
    var frontier = MerkleFrontier()
    var lastSealed: SealManifest?
    var completeRuns: [String: Int64] = [:]
    var streamBytes: Int64 = 0
    // head.json decides which seals are committed; later ones are an interrupted run, or a rollback.
    let headPath = AuditLayout.head(dir)
    let found = try files.committed(dir)
    let head = found.head
    if found.headUnreadable { problem(headPath, "head_unreadable", "head.json is not valid", derived: true) }
    if let head, let bytes = try FS.read(headPath), bytes != head.render() {
      problem(headPath, "head_damaged", "head.json is not in the exact form sendplan writes", derived: true)
    }
    var committed = found.segment
    // A head naming a segment far beyond the files is refused rather than walked to.
    if committed > last + 1 {
      problem(
        headPath, "head_mismatch", "head.json names segment \(committed), but the stream's files end at segment \(last)"
      )
      committed = last + 1
    }
    let pendingHead = try files.pendingHead(dir, after: committed) != nil
    if head == nil && !found.headUnreadable && committed > 0 {
      problem(headPath, "head_missing", "head.json is missing")
    }
    for n in stride(from: committed + 1, through: last, by: 1) {
      report.runsTotal += 1
      let sealFiles = files.manifests.contains(n) && files.checkpoints.contains(n)
      if sealFiles && !pendingHead {
        problem(
          headPath, "head_rolled_back",
          "segment \(n) is sealed, but head.json names segment \(committed): the head was rolled back")
      } else if n == last && n == committed + 1 && files.logs.contains(n) {
        problem(
          AuditLayout.segment(dir, n), "segment_unsealed",
          "segment \(n) is not sealed: its run was interrupted; re-run the same run id to complete it")
      } else {
        problem(AuditLayout.segment(dir, n), "segment_uncommitted", "segment \(n) lies beyond the committed head")
      }
    }
    for n in stride(from: 1, through: committed, by: 1) {
      let spath = AuditLayout.segment(dir, n)
      let mpath = AuditLayout.manifest(dir, n)
      let cpath = AuditLayout.checkpoint(dir, n)
      let hasLog = files.logs.contains(n)
      let hasManifest = files.manifests.contains(n)
      let hasCheckpoint = files.checkpoints.contains(n)
      let problemsBefore = evidenceProblems()
      report.runsTotal += 1
      let manifestBytes = hasManifest ? (try FS.read(mpath)) : nil
      let manifest = manifestBytes.flatMap(SealManifest.parse)
      if hasManifest && manifest == nil { problem(mpath, "manifest_unreadable", "the manifest is not valid") }
      // One manifest has one byte form, so an edit to a field no reader uses is still seen.
      if let manifest, let manifestBytes, manifest.render() != manifestBytes {
        problem(mpath, "manifest_edited", "the manifest is not in the exact form sendplan writes: edited")
      }
      if !hasLog {
        problem(spath, "segment_missing", "segment \(n) is missing: deleted")
      } else {
        let bytes = try FS.read(spath) ?? []
        let scan = SegmentScan.read(bytes, number: n, customerID: owner, chain: chain, frontier: frontier)
        report.recordsChecked += scan.records
        report.recordsModified += scan.modified.count
        switch scan.problem {
        case .none: break
        case .bad(let line, _, let what, true):
          problem("\(spath):\(line)", "record_modified", what)
        case .tornTail(let offset, let count):
          problem(
            spath, "segment_truncated",
            "the sealed segment ends in \(count) bytes of a partial record at offset \(offset): truncated or edited")
        case .bad(let line, _, let what, _):
          problem("\(spath):\(line)", "record_invalid", what)
        }
        if let m = manifest {
          let found = scan.frontier.size - 1
          if scan.problem == nil && scan.modified.isEmpty {
            if found < m.lastRecord && bytes.count < m.segmentBytes && scan.chain != m.chainHead
              && found >= m.firstRecord
            {
              problem(
                spath, "segment_truncated",
                "the segment holds records \(m.firstRecord) to \(found) but was sealed with records up to \(m.lastRecord): "
                  + "records removed from the end")
            } else if scan.chain != m.chainHead || found != m.lastRecord || Int64(bytes.count) != m.segmentBytes {
              problem(
                spath, "segment_rewritten",
                "the segment differs from its seal (sealed: records \(m.firstRecord)-\(m.lastRecord), "
                  + "\(m.segmentBytes) bytes; found: up to \(found), \(bytes.count) bytes): "
                  + "records were inserted, removed or rewritten after sealing")
            }
          }
          if m.segment != n || m.customerID != owner {
            problem(mpath, "manifest_misplaced", "the manifest belongs to segment \(m.segment) of another place")
          }
          if m.prevChainHead != chain || m.firstRecord != frontier.size {
            problem(mpath, "manifest_chain", "the manifest does not continue from the previous seal")
          }
          if let h = scan.header, h.runID != m.runID || h.timestamp != m.timestamp {
            problem(mpath, "manifest_run", "the manifest's run or time differs from the segment header")
          }
          if MerkleFrontier(size: m.treeSize, nodes: m.frontier)?.root != m.merkleRoot {
            problem(mpath, "manifest_root", "the manifest's Merkle root does not match its own frontier")
          }
          if scan.problem == nil && scan.modified.isEmpty && scan.frontier.root != m.merkleRoot {
            problem(mpath, "merkle_root", "the Merkle root over the stream differs from the sealed root")
          }
          if scan.problem == nil && scan.modified.isEmpty {
            var found: [(String, String, String)] = []
            verifyIndex(n, dir: dir, scan: scan, report: &report) { found.append(($0, $1, $2)) }
            for f in found { problem(f.0, f.1, f.2, derived: true) }
          }
          if !m.complete {
            report.notes.append(
              "\(owner.debugDescription): segment \(n) holds the interrupted run \(m.runID), sealed as incomplete")
          }
        }
        // Carry on from the sealed state, so one damaged segment does not hide the next.
        if let m = manifest, let f = MerkleFrontier(size: m.treeSize, nodes: m.frontier) {
          chain = m.chainHead
          frontier = f
        } else {
          chain = scan.chain
          frontier = scan.frontier
        }
      }
      if hasManifest && !hasCheckpoint {
        problem(cpath, "checkpoint_missing", "the checkpoint of segment \(n) is missing: deleted")
      }
      if !hasManifest {
        problem(mpath, "manifest_missing", "the manifest of segment \(n) is missing: deleted")
      }
      if hasCheckpoint {
        var found: [(String, String, String)] = []
        verifyCheckpoint(cpath, n: n, owner: owner, manifest: manifest, publicKey: publicKey, report: &report) {
          found.append(($0, $1, $2))
        }
        for f in found { problem(f.0, f.1, f.2) }
      }
      for cp in myTrusted where cp.treeSize == frontier.size && cp.root != frontier.root {
        problem(
          spath, "trusted_checkpoint_mismatch",
          "at size \(cp.treeSize) the stream's root differs from the trusted checkpoint: history was rewritten")
      }
      if let manifest {
        lastSealed = manifest
        if manifest.complete { completeRuns[manifest.runID] = n }
      }
      streamBytes += FS.size(spath) ?? 0
      if evidenceProblems() == problemsBefore { report.runsValid += 1 }
    }
    for cp in myTrusted where cp.treeSize > frontier.size {
      problem(
        dir, "rollback",
        "the stream holds \(frontier.size) records, but a trusted checkpoint (segment \(cp.segment), run \(cp.runID)) "
          + "had \(cp.treeSize): rolled back to an older state")
    }
    if let m = lastSealed, let head {
      if head.treeSize != m.treeSize || head.chainHead != m.chainHead {
        problem(headPath, "head_mismatch", "head.json does not match the manifest of segment \(m.segment)")
      } else if head.frontier != m.frontier || head.customerID != owner || head.runs != completeRuns {
        problem(
          headPath, "head_damaged",
          "head.json's frontier, customer or runs differ from the manifests (it is derived from them)", derived: true)
      } else if let b = head.streamBytes, b != streamBytes {
        problem(
          headPath, "head_damaged", "head.json says the sealed segments hold \(b) bytes, but they hold \(streamBytes)",
          derived: true)
      }
    }
  }

  /// Compares a sealed segment's index with the one its records give; a missing index is only noted
  /// (queries rebuild it), a different one is a problem of a derived file.
  static func verifyIndex(
    _ n: Int64, dir: String, scan: SegmentScan, report: inout VerifyReport, problem: (String, String, String) -> Void
  ) {
    let ipath = AuditLayout.index(dir, n)
    guard let bytes = try? FS.read(ipath) else {
      report.notes.append("\(ipath): the index is missing; queries rebuild it from the records")
      return
    }
    if bytes != SegmentIndex.render(scan.index) {
      problem(
        ipath, "index_damaged",
        "the index does not match the segment's records (queries refuse it and rebuild it from the records)")
    }
  }

  static func verifyCheckpoint(
    _ cpath: String, n: Int64, owner: String, manifest: SealManifest?, publicKey: Curve25519.Signing.PublicKey?,
    report: inout VerifyReport, problem: (String, String, String) -> Void
  ) {
    guard let bytes = try? FS.read(cpath), let cp = Checkpoint.parse(bytes) else {
      problem(cpath, "checkpoint_unreadable", "the checkpoint is not valid")
      return
    }
    if cp.segment != n || cp.customerID != owner {
      problem(
        cpath, cp.segment < n ? "checkpoint_rolled_back" : "checkpoint_misplaced",
        "this is the checkpoint of segment \(cp.segment)\(cp.customerID == owner ? "" : " of another customer"), "
          + "not of segment \(n)")
    } else if let m = manifest,
      cp.treeSize != m.treeSize || cp.root != m.merkleRoot || cp.chainHead != m.chainHead || cp.runID != m.runID
    {
      problem(cpath, "checkpoint_mismatch", "the checkpoint does not match the manifest of segment \(n)")
    }
    if let s = cp.signature {
      if let publicKey {
        if s.keyID != AuditKeys.keyID(publicKey) || s.publicKey != Array(publicKey.rawRepresentation) {
          problem(
            cpath, "wrong_key",
            "signed by key \(s.keyID), not by the trusted key \(AuditKeys.keyID(publicKey))")
        } else if !cp.signatureValid(trusted: publicKey) {
          problem(cpath, "bad_signature", "the signature does not match the checkpoint")
        }
      } else if !cp.signatureValid(trusted: nil) {
        problem(cpath, "bad_signature", "the signature does not match the checkpoint")
      }
    } else if publicKey != nil {
      problem(cpath, "unsigned", "the checkpoint is unsigned, but a public key was given")
    } else {
      report.notes.append("\(owner.debugDescription): checkpoint \(n) is unsigned")
    }
  }
}
