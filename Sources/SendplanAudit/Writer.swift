import Crypto
import Dispatch
import SendplanEngine
import SendplanModel
import Synchronization

/// What `prepare` found for one tenant's stream.
public enum StreamPreparation: Sendable {
  /// Ready to take this run's events.
  case ready
  /// This run is already sealed in the stream (segment n): nothing to do.
  case alreadySealed(segment: Int64)
  /// The stream cannot be appended to safely; the tenant must not be planned into it.
  case refused(AuditError)
}

/// What happened to one tenant's stream in a run.
public struct StreamOutcome: Sendable {
  public var customerID: ID
  public var segment: Int64
  public var eventsAppended: Int
  public var counts: [EventType: Int]
  /// Bytes of all segments after the run.
  public var streamBytes: Int64
}

/// The audit side of a run.
public struct AuditSummary: Sendable {
  public var streams: [StreamOutcome] = []
  public var alreadySealed: Int = 0
  public var signed: Bool
  /// Recovery actions taken (torn tails quarantined, interrupted runs sealed), one line each.
  public var notices: [String] = []

  public var eventsAppended: Int { streams.reduce(0) { $0 + $1.eventsAppended } }
}

/// State of a stream after its last committed seal, plus an unsealed segment if a crash left one.
struct StreamState: Sendable {
  var customerID: ID
  var dir: String
  var exists: Bool
  var sealed: Int64 = 0
  var treeSize: Int64 = 0
  var chainHead = Hash32.zero
  var frontier = MerkleFrontier()
  var runs: [String: Int64] = [:]
  var segmentBytes: Int64 = 0
  /// The unsealed segment, already cut back to its last whole record.
  var open: OpenSegment?
}

struct OpenSegment: Sendable {
  var number: Int64
  var runID: String
  var timestamp: String
  var bytes: [UInt8]
  var chain: Hash32
  var frontier: MerkleFrontier
  var counts: [EventType: Int]
  var index: [IndexEntry]
}

/// A seal waiting to be written.
struct PendingSeal: Sendable {
  var dir: String
  var manifest: SealManifest
  var checkpoint: Checkpoint
  var index: [IndexEntry]
}

/// Appends a run's events to per-tenant audit streams and seals them, crash-safely.
///
/// A run takes the folder's lock, `prepare`s every tenant's stream (recovering what a crash left),
/// and, once the plans exist, `commit`s: segment bytes are written, the file system is synced,
/// manifests, checkpoints and indexes are written to temporary names, synced, renamed into place,
/// synced, and finally `head.json` is renamed into place and synced. A crash at any point leaves
/// either the previous committed state plus an unsealed segment (which the next run completes) or
/// the new committed state.
public final class AuditWriter: @unchecked Sendable {
  public let layout: AuditLayout
  let runID: String
  let asOf: Timestamp
  let key: Curve25519.Signing.PrivateKey?
  let faults: FaultPoints?
  let lock: AuditLock
  var states: [ID: StreamState] = [:]
  var notices: [String] = []

  /// Creates the folder if needed and takes its lock.
  public init(
    root: String, runID: String, asOf: Timestamp, key: Curve25519.Signing.PrivateKey?, faults: FaultPoints? = nil
  ) throws(AuditError) {
    layout = AuditLayout(root: root)
    if !AuditFS.isDirectory(layout.root) {
      do throws(AuditError) {
        try AuditFS.makeDirectory(layout.root)
      } catch {
        throw AuditError(
          .cannotCreate, code: "audit_dir_unavailable", path: layout.root,
          message: "cannot create the audit folder: \(error.message)", fix: "create it or fix its parent's permissions")
      }
    }
    lock = try AuditLock(auditDir: layout.root)
    try AuditFS.makeDirectory(layout.streams)
    self.runID = runID
    self.asOf = asOf
    self.key = key
    self.faults = faults
  }

  /// Inspects and, where a crash left a torn tail, repairs every tenant's stream. In parallel.
  public func prepare(_ customerIDs: [ID]) -> [StreamPreparation] {
    let results = Mutex<[(StreamPreparation, StreamState?, [String])]>(
      Array(repeating: (.ready, nil, []), count: customerIDs.count))
    DispatchQueue.concurrentPerform(iterations: customerIDs.count) { i in
      var notes: [String] = []
      let r: (StreamPreparation, StreamState?)
      do throws(AuditError) {
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
    for (i, r) in all.enumerated() {
      if let s = r.1 { states[customerIDs[i]] = s }
      notices.append(contentsOf: r.2)
    }
    return all.map(\.0)
  }

  func recover(_ customerID: ID, notes: inout [String]) throws(AuditError) -> StreamState {
    let dir = layout.streamDir(customerID)
    var state = StreamState(customerID: customerID, dir: dir, exists: AuditFS.isDirectory(dir))
    guard state.exists else { return state }
    let files = try StreamFiles.scan(dir)
    if let owner = try AuditFS.read(AuditLayout.identity(dir)) {
      guard StreamIdentity.parse(owner) == customerID.string else {
        throw corrupt(
          AuditLayout.identity(dir), "stream_owner_mismatch",
          "this stream folder does not belong to customer \(customerID.string.debugDescription)")
      }
    } else if !files.logs.isEmpty {
      throw corrupt(AuditLayout.identity(dir), "stream_identity_missing", "stream.json is missing")
    }
    let last = files.lastLog
    for n in 1...max(1, last) where last > 0 && !files.logs.contains(n) {
      throw corrupt(AuditLayout.segment(dir, n), "segment_missing", "segment \(n) is missing (later segments exist)")
    }
    // The committed seal is head.json's; without it, the last segment with both seal files.
    var committed: Int64
    var headLoaded = false
    if let headBytes = try AuditFS.read(AuditLayout.head(dir)) {
      guard let head = StreamHead.parse(headBytes), head.customerID == customerID.string else {
        throw corrupt(AuditLayout.head(dir), "head_unreadable", "head.json is not a valid stream head")
      }
      committed = head.segment
      state.runs = head.runs
      headLoaded = true
    } else {
      committed = (last > 0 && files.manifests.contains(last) && files.checkpoints.contains(last)) ? last : last - 1
      if committed < 0 { committed = 0 }
    }
    guard committed <= last, last <= committed + 1 else {
      throw corrupt(
        AuditLayout.head(dir), "head_mismatch",
        "head.json says segment \(committed) is the last sealed one, but segments up to \(last) exist")
    }
    for n in stride(from: 1, through: committed, by: 1) {
      if !files.manifests.contains(n) {
        throw corrupt(AuditLayout.manifest(dir, n), "manifest_missing", "the manifest of sealed segment \(n) is missing")
      }
      if !files.checkpoints.contains(n) {
        throw corrupt(
          AuditLayout.checkpoint(dir, n), "checkpoint_missing", "the checkpoint of sealed segment \(n) is missing")
      }
    }
    if committed > 0 {
      let mpath = AuditLayout.manifest(dir, committed)
      guard let mbytes = try AuditFS.read(mpath), let m = SealManifest.parse(mbytes),
        m.customerID == customerID.string, m.segment == committed,
        let frontier = MerkleFrontier(size: m.treeSize, nodes: m.frontier), frontier.root == m.merkleRoot
      else { throw corrupt(mpath, "manifest_unreadable", "the manifest is not valid") }
      // Check the tip of the last sealed segment cheaply; `audit verify` checks every byte.
      let spath = AuditLayout.segment(dir, committed)
      guard AuditFS.size(spath) == m.segmentBytes else {
        throw corrupt(
          spath, "sealed_segment_changed",
          "sealed segment \(committed) is \(AuditFS.size(spath) ?? 0) bytes but was sealed at \(m.segmentBytes) bytes")
      }
      let tailLength = Int(min(m.segmentBytes, 4096))
      let tail = try AuditFS.read(spath, offset: m.segmentBytes - Int64(tailLength), length: tailLength)
      var lastHash: [UInt8] = []
      if tail.count >= 68 { lastHash = Array(tail[(tail.count - 67)..<(tail.count - 3)]) }
      guard tail.last == 0x0A, Hash32(hex: lastHash) == m.chainHead else {
        throw corrupt(
          spath, "sealed_segment_changed", "the last record of sealed segment \(committed) does not end in its chain head")
      }
      state.sealed = committed
      state.treeSize = m.treeSize
      state.chainHead = m.chainHead
      state.frontier = frontier
      if !headLoaded { state.runs = try rebuildRuns(dir, through: committed) }
      for n in stride(from: 1, through: committed, by: 1) {
        state.segmentBytes += AuditFS.size(AuditLayout.segment(dir, n)) ?? 0
      }
    }
    if last == committed + 1 {
      state.open = try recoverOpen(state, number: last, notes: &notes)
    }
    return state
  }

  func rebuildRuns(_ dir: String, through n: Int64) throws(AuditError) -> [String: Int64] {
    var runs: [String: Int64] = [:]
    for k in stride(from: 1, through: n, by: 1) {
      let p = AuditLayout.manifest(dir, k)
      guard let b = try AuditFS.read(p), let m = SealManifest.parse(b) else {
        throw corrupt(p, "manifest_unreadable", "the manifest is not valid")
      }
      if m.complete { runs[m.runID] = k }
    }
    return runs
  }

  /// Reads the unsealed segment; moves a torn tail aside; refuses anything else that is wrong.
  func recoverOpen(_ state: StreamState, number: Int64, notes: inout [String]) throws(AuditError) -> OpenSegment? {
    let path = AuditLayout.segment(state.dir, number)
    let bytes = try AuditFS.read(path) ?? []
    let scan = SegmentScan.read(
      bytes, number: number, customerID: state.customerID.string, chain: state.chainHead, frontier: state.frontier)
    switch scan.problem {
    case .none:
      break
    case .bad(let line, _, let what, _):
      throw AuditError(
        .corrupt, code: "audit_corrupt", path: "\(path):\(line)",
        message:
          "\(what); the damage is not at the end of the file, so it is not a torn write and will not be repaired",
        fix: "restore the stream from a backup or an export; run `sendplan audit verify` for the full picture")
    case .tornTail(let offset, let count):
      let qdir = AuditLayout.quarantine(state.dir)
      try AuditFS.makeDirectory(qdir)
      let qpath = qdir + "/" + AuditLayout.number(number) + "-at-\(offset).torn"
      try AuditFS.writeFile(qpath, Array(bytes[offset...]), faults: faults)
      try AuditFS.sync(qpath, faults: faults)
      try AuditFS.sync(qdir, faults: faults)
      try AuditFS.truncate(path, to: Int64(offset), faults: faults)
      try AuditFS.sync(path, faults: faults)
      notes.append(
        "customer \(state.customerID.string.debugDescription): moved a torn tail of \(count) bytes from \(path) "
          + "(offset \(offset)) to \(qpath)")
    }
    guard let header = scan.header else { return nil }
    return OpenSegment(
      number: number, runID: header.runID, timestamp: header.timestamp, bytes: Array(bytes[0..<scan.validBytes]),
      chain: scan.chain, frontier: scan.frontier, counts: scan.counts, index: scan.index)
  }

  func corrupt(_ path: String, _ code: String, _ message: String) -> AuditError {
    AuditError(
      .corrupt, code: code, path: path, message: message + "; refusing to append to this stream",
      fix: "run `sendplan audit verify` and restore the stream from a backup or an export")
  }

  /// Appends and seals every plan's events. `plans` must only hold tenants `prepare` found ready.
  public func commit(_ plans: [TenantPlan]) throws(AuditError) -> AuditSummary {
    var summary = AuditSummary(signed: key != nil)
    summary.notices = notices
    let work = plans.filter { states[$0.customerID] != nil }
    summary.alreadySealed = plans.count - work.count
    let seals = Mutex<[[PendingSeal]]>(Array(repeating: [], count: work.count))
    let outcomes = Mutex<[StreamOutcome?]>(Array(repeating: nil, count: work.count))
    let firstError = Mutex<AuditError?>(nil)
    let lateNotes = Mutex<[String]>([])

    // 1. Segment bytes, in parallel.
    DispatchQueue.concurrentPerform(iterations: work.count) { i in
      if firstError.withLock({ $0 != nil }) { return }
      do throws(AuditError) {
        guard let state = states[work[i].customerID] else { return }
        var notes: [String] = []
        let (pending, outcome) = try writeSegment(work[i], state: state, notes: &notes)
        seals.withLock { $0[i] = pending }
        if !notes.isEmpty { lateNotes.withLock { $0.append(contentsOf: notes) } }
        outcomes.withLock { $0[i] = outcome }
      } catch {
        firstError.withLock { if $0 == nil { $0 = error } }
      }
    }
    if let e = firstError.withLock({ $0 }) { throw e }
    try AuditFS.syncAll(layout.streams, faults: faults)

    // 2. Seal files under temporary names.
    let allSeals = seals.withLock { $0 }
    DispatchQueue.concurrentPerform(iterations: allSeals.count) { i in
      if firstError.withLock({ $0 != nil }) { return }
      do throws(AuditError) {
        for s in allSeals[i] {
          try AuditFS.writeFile(AuditLayout.manifest(s.dir, s.manifest.segment) + ".tmp", s.manifest.render(), faults: faults)
          try AuditFS.writeFile(
            AuditLayout.checkpoint(s.dir, s.manifest.segment) + ".tmp", s.checkpoint.render(), faults: faults)
          try AuditFS.writeFile(
            AuditLayout.index(s.dir, s.manifest.segment) + ".tmp", SegmentIndex.render(s.index), faults: faults)
        }
        if let last = allSeals[i].last, let state = states[work[i].customerID] {
          var runs = state.runs
          for s in allSeals[i] where s.manifest.complete { runs[s.manifest.runID] = s.manifest.segment }
          let head = StreamHead(
            customerID: last.manifest.customerID, segment: last.manifest.segment, treeSize: last.manifest.treeSize,
            chainHead: last.manifest.chainHead, frontier: last.manifest.frontier, runs: runs)
          try AuditFS.writeFile(AuditLayout.head(last.dir) + ".tmp", head.render(), faults: faults)
        }
      } catch {
        firstError.withLock { if $0 == nil { $0 = error } }
      }
    }
    if let e = firstError.withLock({ $0 }) { throw e }
    try AuditFS.syncAll(layout.streams, faults: faults)

    // 3. Seal files into place, then the heads that commit them.
    for group in allSeals {
      for s in group {
        for path in [
          AuditLayout.manifest(s.dir, s.manifest.segment), AuditLayout.checkpoint(s.dir, s.manifest.segment),
          AuditLayout.index(s.dir, s.manifest.segment),
        ] {
          try AuditFS.rename(path + ".tmp", path, faults: faults)
        }
      }
    }
    try AuditFS.syncAll(layout.streams, faults: faults)
    for group in allSeals {
      guard let last = group.last else { continue }
      try AuditFS.rename(AuditLayout.head(last.dir) + ".tmp", AuditLayout.head(last.dir), faults: faults)
    }
    try AuditFS.syncAll(layout.streams, faults: faults)
    summary.streams = outcomes.withLock { $0.compactMap { $0 } }
    summary.notices += lateNotes.withLock { $0 }.sorted()
    return summary
  }

  /// Writes one tenant's segment (finishing an interrupted one when it is this run's) and returns the seals to write.
  func writeSegment(
    _ plan: TenantPlan, state: StreamState, notes: inout [String]
  ) throws(AuditError) -> ([PendingSeal], StreamOutcome) {
    var pending: [PendingSeal] = []
    var chain = state.chainHead
    var frontier = state.frontier
    var next = state.sealed + 1
    var existing: [UInt8] = []
    var streamBytes = state.segmentBytes
    if let open = state.open {
      if open.runID == runID {
        existing = open.bytes
      } else {
        // An interrupted different run: seal what it wrote, marked incomplete, and start after it.
        let m = try manifest(
          customerID: plan.customerID.string, runID: open.runID, segment: open.number, timestamp: open.timestamp,
          complete: false, firstRecord: state.treeSize, counts: open.counts, prev: state.chainHead,
          chain: open.chain, frontier: open.frontier, bytes: open.bytes)
        pending.append(PendingSeal(dir: state.dir, manifest: m.0, checkpoint: m.1, index: open.index))
        chain = open.chain
        frontier = open.frontier
        next = open.number + 1
        streamBytes += Int64(open.bytes.count)
        notes.append(
          "customer \(plan.customerID.string.debugDescription): sealed \(open.frontier.size - state.treeSize) records of "
            + "the interrupted run \(open.runID) as incomplete (segment \(open.number))")
      }
    }
    let built = SegmentBuilder.build(
      plan: plan, segment: next, runID: runID, chain: chain, frontier: frontier)
    let path = AuditLayout.segment(state.dir, next)
    if !existing.isEmpty {
      guard existing.count <= built.bytes.count, built.bytes.prefix(existing.count).elementsEqual(existing) else {
        let line = zip(existing.split(separator: 0x0A), built.bytes.split(separator: 0x0A)).prefix { $0 == $1 }.count + 1
        throw AuditError(
          .corrupt, code: "audit_run_mismatch", path: "\(path):\(line)",
          message:
            "the interrupted run \(runID) wrote events that differ from what this run plans; the bundle or --as-of changed since",
          fix: "re-run with the original bundle and --as-of, or use a new --run-id (the interrupted part is then sealed as incomplete)")
      }
      try AuditFS.append(path, built.bytes[existing.count...], create: false, faults: faults)
    } else {
      if !state.exists || !AuditFS.exists(AuditLayout.identity(state.dir)) {
        try AuditFS.makeDirectory(state.dir)
        let idPath = AuditLayout.identity(state.dir)
        try AuditFS.writeFile(idPath + ".tmp", StreamIdentity.render(plan.customerID.string), faults: faults)
        try AuditFS.sync(idPath + ".tmp", faults: faults)
        try AuditFS.rename(idPath + ".tmp", idPath, faults: faults)
      }
      if AuditFS.exists(path) {
        // Empty after a torn header was quarantined.
        try AuditFS.append(path, built.bytes[...], create: false, faults: faults)
      } else {
        try AuditFS.append(path, built.bytes[...], create: true, faults: faults)
      }
    }
    let m = try manifest(
      customerID: plan.customerID.string, runID: runID, segment: next, timestamp: plan.asOf.rfc3339, complete: true,
      firstRecord: built.firstSeq, counts: built.counts, prev: chain, chain: built.chainHead,
      frontier: built.frontier, bytes: built.bytes)
    pending.append(PendingSeal(dir: state.dir, manifest: m.0, checkpoint: m.1, index: built.index))
    streamBytes += Int64(built.bytes.count)
    let outcome = StreamOutcome(
      customerID: plan.customerID, segment: next, eventsAppended: Int(built.records - 1), counts: built.counts,
      streamBytes: streamBytes)
    return (pending, outcome)
  }

  func manifest(
    customerID: String, runID: String, segment: Int64, timestamp: String, complete: Bool, firstRecord: Int64,
    counts: [EventType: Int], prev: Hash32, chain: Hash32, frontier: MerkleFrontier, bytes: [UInt8]
  ) throws(AuditError) -> (SealManifest, Checkpoint) {
    let root = frontier.root
    let m = SealManifest(
      customerID: customerID, runID: runID, segment: segment, timestamp: timestamp, complete: complete,
      firstRecord: firstRecord, lastRecord: frontier.size - 1, counts: counts, prevChainHead: prev,
      chainHead: chain, segmentBytes: Int64(bytes.count), segmentSHA256: Hash32.sha256(bytes),
      treeSize: frontier.size, merkleRoot: root, frontier: frontier.nodes,
      keyID: key.map { AuditKeys.keyID($0.publicKey) })
    var cp = Checkpoint(
      customerID: customerID, segment: segment, treeSize: frontier.size, root: root, chainHead: chain, runID: runID,
      time: timestamp, signature: nil)
    try cp.sign(with: key)
    return (m, cp)
  }
}
