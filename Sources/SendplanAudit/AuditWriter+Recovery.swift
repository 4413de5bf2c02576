import Crypto
import Dispatch
import SendplanDiagnostics
import SendplanEngine
import SendplanFileSystem
import SendplanModel
import Synchronization

extension AuditWriter {
  /// Inspects and, where a crash left a torn tail, repairs every tenant's stream. In parallel.
  package func prepare(_ customerIDs: [ID]) -> [StreamPreparation] {
    let results = Mutex<[(StreamPreparation, StreamState?, [String])]>(
      Array(repeating: (.ready, nil, []), count: customerIDs.count))
    DispatchQueue.concurrentPerform(iterations: customerIDs.count) { i in
      var notes: [String] = []
      let r: (StreamPreparation, StreamState?)
      do throws(SendplanError) {
        let state = try recover(customerIDs[i], notes: &notes)
        if let seg = state.runs[runID] {
          r = (.alreadySealed(segment: seg), nil)
        } else {
          r = (.ready, state)
        }
      } catch {
        r = (.refused(error), nil)
      }
      results.withLock { $0[i] = (r.0, r.1, notes) }
    }
    let all = results.withLock { $0 }
    prepared.withLock { p in
      for (i, r) in all.enumerated() {
        if let s = r.1 { p.states[customerIDs[i]] = s }
        p.notices.append(contentsOf: r.2)
      }
    }
    return all.map(\.0)
  }

  func recover(_ customerID: ID, notes: inout [String]) throws(SendplanError) -> StreamState {
    let dir = layout.streamDir(customerID)
    var state = StreamState(customerID: customerID, dir: dir, exists: FS.isDirectory(dir))
    guard state.exists else { return state }
    let files = try StreamFiles.scan(dir)
    let owner = try FS.read(AuditLayout.identity(dir))
    let ownerID = owner.flatMap(StreamIdentity.parse)
    if let ownerID, ownerID != customerID.string {
      throw corrupt(
        AuditLayout.identity(dir), "stream_owner_mismatch",
        "this stream folder does not belong to customer \(customerID.string.debugDescription)")
    }
    // stream.json is made durable by the first commit's sync; before that a crash may lose it.
    state.needsIdentity = ownerID == nil
    let last = files.lastLog
    for n in stride(from: 1, through: last, by: 1) where !files.logs.contains(n) {
      throw corrupt(AuditLayout.segment(dir, n), "segment_missing", "segment \(n) is missing (later segments exist)")
    }
    let found = try files.committed(dir)
    if found.headUnreadable {
      throw corrupt(AuditLayout.head(dir), "head_unreadable", "head.json is not a valid stream head")
    }
    if let head = found.head, head.customerID != customerID.string {
      throw corrupt(AuditLayout.head(dir), "head_unreadable", "head.json belongs to another customer")
    }
    let committed = found.segment
    let headLoaded = found.head != nil
    if committed > 0 && state.needsIdentity {
      throw corrupt(AuditLayout.identity(dir), "stream_identity_missing", "stream.json is missing or unreadable")
    }
    state.runs = found.head?.runs ?? [:]
    guard committed <= last, last <= committed + 1 else {
      throw corrupt(
        AuditLayout.head(dir), "head_mismatch",
        "head.json says segment \(committed) is the last sealed one, but segments up to \(last) exist")
    }
    for n in stride(from: 1, through: committed, by: 1) {
      if !files.manifests.contains(n) {
        throw corrupt(
          AuditLayout.manifest(dir, n), "manifest_missing", "the manifest of sealed segment \(n) is missing")
      }
      if !files.checkpoints.contains(n) {
        throw corrupt(
          AuditLayout.checkpoint(dir, n), "checkpoint_missing", "the checkpoint of sealed segment \(n) is missing")
      }
    }
    if committed > 0 {
      let mpath = AuditLayout.manifest(dir, committed)
      guard let mbytes = try FS.read(mpath), let m = SealManifest.parse(mbytes),
        m.customerID == customerID.string, m.segment == committed,
        let frontier = MerkleFrontier(size: m.treeSize, nodes: m.frontier), frontier.root == m.merkleRoot
      else { throw corrupt(mpath, "manifest_unreadable", "the manifest is not valid") }
      try checkSeals(m, dir: dir, head: found.head)
      // Check the tip of the last sealed segment cheaply; `audit verify` checks every byte.
      let spath = AuditLayout.segment(dir, committed)
      guard FS.size(spath) == m.segmentBytes else {
        throw corrupt(
          spath, "sealed_segment_changed",
          "sealed segment \(committed) is \(FS.size(spath) ?? 0) bytes but was sealed at \(m.segmentBytes) bytes")
      }
      let tailLength = Int(min(m.segmentBytes, Self.sealedTailCheck))
      let tail = try FS.read(spath, offset: m.segmentBytes - Int64(tailLength), length: tailLength)
      let t = RecordEncoder.tagLength
      var lastTag: [UInt8] = []
      if tail.count >= t + 3 { lastTag = Array(tail[(tail.count - t - 3)..<(tail.count - 3)]) }
      guard tail.last == 0x0A, lastTag == Array(m.chainHead.hex.utf8.prefix(t)) else {
        throw corrupt(
          spath, "sealed_segment_changed",
          "the last record of sealed segment \(committed) does not end in its chain head")
      }
      state.sealed = committed
      state.treeSize = m.treeSize
      state.chainHead = m.chainHead
      state.frontier = frontier
      if !headLoaded { state.runs = try rebuildRuns(dir, through: committed) }
      if let b = found.head?.streamBytes, found.head?.segment == committed {
        state.segmentBytes = b
      } else {
        for n in stride(from: 1, through: committed, by: 1) {
          state.segmentBytes += FS.size(AuditLayout.segment(dir, n)) ?? 0
        }
      }
    }
    if last == committed + 1 {
      state.open = try recoverOpen(state, number: last, notes: &notes)
    }
    return state
  }

  /// The shortest record line there can be; a seal claiming more records than its bytes could hold is impossible.
  static let minRecordBytes: Int64 = 32

  /// Refuses a last seal that is inconsistent with itself, its checkpoint, the seal before it or the
  /// head, before any of its numbers are used; `audit verify` checks every record.
  func checkSeals(_ m: SealManifest, dir: String, head: StreamHead?) throws(SendplanError) {
    let mpath = AuditLayout.manifest(dir, m.segment)
    guard m.records <= m.segmentBytes / Self.minRecordBytes else {
      throw corrupt(
        mpath, "seal_impossible",
        "the manifest claims \(m.records) records in a segment of \(m.segmentBytes) bytes")
    }
    let cpath = AuditLayout.checkpoint(dir, m.segment)
    guard let cb = try FS.read(cpath), let cp = Checkpoint.parse(cb) else {
      throw corrupt(cpath, "checkpoint_unreadable", "the checkpoint of the last sealed segment is not valid")
    }
    guard cp.segment == m.segment, cp.customerID == m.customerID, cp.treeSize == m.treeSize, cp.root == m.merkleRoot,
      cp.chainHead == m.chainHead, cp.runID == m.runID
    else {
      throw corrupt(cpath, "checkpoint_mismatch", "the checkpoint does not match the manifest of segment \(m.segment)")
    }
    if m.segment > 1 {
      let ppath = AuditLayout.manifest(dir, m.segment - 1)
      guard let pb = try FS.read(ppath), let p = SealManifest.parse(pb) else {
        throw corrupt(ppath, "manifest_unreadable", "the manifest is not valid")
      }
      guard p.treeSize == m.firstRecord, p.chainHead == m.prevChainHead else {
        throw corrupt(mpath, "manifest_chain", "the manifest does not continue from the seal of segment \(p.segment)")
      }
    } else if m.firstRecord != 0 || m.prevChainHead != .zero {
      throw corrupt(mpath, "manifest_chain", "the first seal of the stream does not start at record 0")
    }
    if let head, head.treeSize != m.treeSize || head.chainHead != m.chainHead || head.frontier != m.frontier {
      throw corrupt(
        AuditLayout.head(dir), "head_mismatch", "head.json does not match the manifest of segment \(m.segment)")
    }
  }

  func rebuildRuns(_ dir: String, through n: Int64) throws(SendplanError) -> [String: Int64] {
    var runs: [String: Int64] = [:]
    for k in stride(from: 1, through: n, by: 1) {
      let p = AuditLayout.manifest(dir, k)
      guard let b = try FS.read(p), let m = SealManifest.parse(b) else {
        throw corrupt(p, "manifest_unreadable", "the manifest is not valid")
      }
      if m.complete { runs[m.runID] = k }
    }
    return runs
  }

  /// Reads the unsealed segment; moves a torn tail aside; refuses anything else that is wrong.
  func recoverOpen(_ state: StreamState, number: Int64, notes: inout [String]) throws(SendplanError) -> OpenSegment? {
    let path = AuditLayout.segment(state.dir, number)
    let bytes = try FS.read(path) ?? []
    var scan = SegmentScan.read(
      bytes, number: number, customerID: state.customerID.string, chain: state.chainHead, frontier: state.frontier)
    if case .bad(_, let offset, _, _) = scan.problem, Self.unwrittenSector(bytes, from: offset) {
      // No record holds a NUL byte, but a sector the power cut kept from being written reads as
      // zeros: this unsealed tail is torn, not edited.
      scan.problem = .tornTail(offset: offset, bytes: bytes.count - offset)
    }
    switch scan.problem {
    case .none:
      break
    case .bad(let line, _, let what, _):
      throw SendplanError(
        .badData, code: "audit_corrupt", path: path, line: line,
        message:
          "\(what); the damage is not at the end of the file, so it is not a torn write and will not be repaired",
        fix: "restore the stream from a backup or an export; verify the audit folder for the full picture")
    case .tornTail(let offset, let count):
      let qdir = AuditLayout.quarantine(state.dir)
      try FS.makeDirectory(qdir, existingOK: true)
      let qpath = qdir + "/" + AuditLayout.number(number) + "-at-\(offset).torn"
      try FS.writeFile(qpath, Array(bytes[offset...]), faults: faults)
      try FS.sync(qpath, faults: faults)
      try FS.sync(qdir, faults: faults)
      // The quarantine folder is new: without syncing its parent, a power cut could lose it (and the
      // torn bytes) while the truncation below survives.
      try FS.sync(state.dir, faults: faults)
      try FS.truncate(path, to: Int64(offset), faults: faults)
      try FS.sync(path, faults: faults)
      notes.append(
        "customer \(state.customerID.string.debugDescription): moved a torn tail of \(count) bytes from \(path) "
          + "(offset \(offset)) to \(qpath)")
    }
    guard let header = scan.header else { return nil }
    return OpenSegment(
      number: number, runID: header.runID, timestamp: header.timestamp, bytes: Array(bytes[0..<scan.validBytes]),
      chain: scan.chain, frontier: scan.frontier, counts: scan.counts, index: scan.index)
  }

  /// Whether the line starting at `offset` holds a NUL byte: what a sector never written leaves.
  static func unwrittenSector(_ bytes: [UInt8], from offset: Int) -> Bool {
    guard offset < bytes.count else { return false }
    let end = bytes[offset...].firstIndex(of: 0x0A) ?? bytes.count
    return bytes[offset..<end].contains(0)
  }

  func corrupt(_ path: String, _ code: String, _ message: String) -> SendplanError {
    SendplanError(
      .badData, code: code, path: path, message: message + "; refusing to append to this stream",
      fix: "verify the audit folder and restore the stream from a backup or an export")
  }
}
