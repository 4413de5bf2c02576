import Crypto
import Dispatch
import SendplanDiagnostics
import SendplanEngine
import SendplanFileSystem
import SendplanModel
import Synchronization

/// Appends a run's events to per-tenant audit streams and seals them, crash-safely.
///
/// A run takes the folder's lock and `prepare`s every tenant's stream (recovering what a crash left).
/// As each plan is made, `append` writes its segment, manifest, checkpoint, index and the next head
/// (as `head.json.tmp`). `commit` syncs the file system, renames every head into place and syncs
/// again. A crash at any point leaves either the previous committed state plus an unsealed segment
/// (which the next run completes) or the new committed state.
// Unchecked only because swift-crypto's key type is not marked Sendable; the key is immutable.
package final class AuditWriter: @unchecked Sendable {
  package let layout: AuditLayout
  let runID: String
  let asOf: Timestamp
  let key: Curve25519.Signing.PrivateKey?
  let faults: FaultPoints?
  let lock: AuditLock
  let prepared = Mutex<(states: [ID: StreamState], notices: [String])>(([:], []))
  var states: [ID: StreamState] { prepared.withLock { $0.states } }
  var notices: [String] { prepared.withLock { $0.notices } }

  /// Creates the folder if needed and takes its lock.
  package init(
    root: String, runID: String, asOf: Timestamp, key: Curve25519.Signing.PrivateKey?, faults: FaultPoints? = nil,
    shard: Shard? = nil
  ) throws(SendplanError) {
    layout = AuditLayout(root: root)
    if !FS.isDirectory(layout.root) {
      do throws(SendplanError) {
        try FS.makeDirectory(layout.root, existingOK: true)
      } catch {
        throw SendplanError(
          .cannotCreate, code: "audit_dir_unavailable", path: layout.root,
          message: "cannot create the audit folder: \(error.message)", fix: "create it or fix its parent's permissions")
      }
    }
    lock = try AuditLock(auditDir: layout.root, shard: shard)
    try FS.makeDirectory(layout.streams, existingOK: true)
    self.runID = runID
    self.asOf = asOf
    self.key = key
    self.faults = faults
  }

  /// Builds and writes one tenant's segment; safe to call from several threads for different tenants.
  /// Tenants `prepare` did not find ready are skipped.
  /// Returns the stream's state after this run, or, for a tenant whose stream already holds the run,
  /// the state that run sealed; nil when the tenant was refused.
  @discardableResult
  package func append(_ plan: TenantPlan) throws(SendplanError) -> StreamOutcome? {
    guard let state = states[plan.customerID] else { return try sealedOutcome(plan.customerID) }
    var notes: [String] = []
    let (pending, outcome) = try writeSegment(plan, state: state, notes: &notes)
    try writeSeals(pending, state: state)
    appended.withLock {
      $0.seals.append(pending)
      $0.outcomes.append(outcome)
      $0.notes.append(contentsOf: notes)
    }
    return outcome
  }

  /// What an earlier, sealed run of this run id recorded for the tenant.
  func sealedOutcome(_ customerID: ID) throws(SendplanError) -> StreamOutcome? {
    let dir = layout.streamDir(customerID)
    guard let hb = try FS.read(AuditLayout.head(dir)), let head = StreamHead.parse(hb),
      let seg = head.runs[runID], let mb = try FS.read(AuditLayout.manifest(dir, seg)),
      let m = SealManifest.parse(mb)
    else { return nil }
    return StreamOutcome(
      customerID: customerID, segment: seg, eventsAppended: 0, counts: m.counts, streamBytes: 0,
      treeSize: m.treeSize, chainHead: m.chainHead.hex, merkleRoot: m.merkleRoot.hex)
  }

  struct Appended {
    var seals: [[PendingSeal]] = []
    var outcomes: [StreamOutcome] = []
    var notes: [String] = []
  }
  let appended = Mutex(Appended())
  let segmentWrites = SegmentWrites()

  /// Commits every segment `append` wrote: one file-system sync makes segments, manifests, checkpoints,
  /// indexes and the new heads durable; then each `head.json.tmp` is swapped with `head.json` (the
  /// commit point of a seal; the previous head stays behind as `head.json.tmp`, to be overwritten by
  /// the next run) and the file system is synced again. `alreadySealed` is the number of
  /// tenants `prepare` found done.
  package func commit(alreadySealed: Int) throws(SendplanError) -> AuditSummary {
    let done = appended.withLock { $0 }
    try segmentWrites.drain()
    var summary = AuditSummary(signed: key != nil)
    summary.notices = notices + done.notes.sorted()
    summary.alreadySealed = alreadySealed
    try FS.syncAll(layout.streams, faults: faults)
    for group in done.seals {
      guard let last = group.last else { continue }
      try FS.rename(
        AuditLayout.head(last.dir) + ".tmp", AuditLayout.head(last.dir), keepingOld: true, faults: faults)
    }
    try FS.syncAll(layout.streams, faults: faults)
    summary.streams = done.outcomes.sorted { $0.customerID < $1.customerID }
    return summary
  }

  /// Writes a tenant's seal files in place and its next head under a temporary name.
  /// None of them counts until `head.json` names the segment, so a crash mid-write is harmless.
  func writeSeals(_ seals: [PendingSeal], state: StreamState) throws(SendplanError) {
    guard let last = seals.last else { return }
    var runs = state.runs
    for s in seals where s.manifest.complete { runs[s.manifest.runID] = s.manifest.segment }
    let head = StreamHead(
      customerID: last.manifest.customerID, segment: last.manifest.segment, treeSize: last.manifest.treeSize,
      chainHead: last.manifest.chainHead, frontier: last.manifest.frontier, runs: runs,
      streamBytes: state.segmentBytes + seals.reduce(0) { $0 + $1.manifest.segmentBytes })
    // The pending head goes first: seal files beyond head.json without it mean tampering, not a crash.
    try FS.writeFile(AuditLayout.head(last.dir) + ".tmp", head.render(), faults: faults)
    for s in seals {
      try FS.writeFile(AuditLayout.manifest(s.dir, s.manifest.segment), s.manifest.render(), faults: faults)
      try FS.writeFile(AuditLayout.checkpoint(s.dir, s.manifest.segment), s.checkpoint.render(), faults: faults)
      try FS.writeFile(AuditLayout.index(s.dir, s.manifest.segment), SegmentIndex.render(s.index), faults: faults)
    }
  }

  /// Writes one tenant's segment (finishing an interrupted one when it is this run's) and returns the seals to write.
  func writeSegment(
    _ plan: TenantPlan, state: StreamState, notes: inout [String]
  ) throws(SendplanError) -> ([PendingSeal], StreamOutcome) {
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
          chain: open.chain, frontier: open.frontier, byteCount: open.bytes.count)
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
    if state.needsIdentity {
      // No fsync here: the commit's file-system sync makes it durable before any seal counts.
      try FS.makeDirectory(state.dir, existingOK: true)
      let idPath = AuditLayout.identity(state.dir)
      try FS.writeFile(idPath + ".tmp", StreamIdentity.render(plan.customerID.string), faults: faults)
      try FS.rename(idPath + ".tmp", idPath, faults: faults)
    }
    if !existing.isEmpty {
      let all = built.writer.buffer(from: 0)
      guard existing.count <= all.count, all.prefix(existing.count).elementsEqual(existing) else {
        let line =
          zip(existing.split(separator: 0x0A), built.writer.bytes.split(separator: 0x0A)).prefix { $0 == $1 }.count + 1
        throw SendplanError(
          .badData, code: "audit_run_mismatch", path: path, line: line,
          message:
            "the interrupted run \(runID) wrote events that differ from what this run plans; the bundle or the as-of time changed since",
          fix:
            "re-run with the original bundle and as-of time, or under a new run id (the interrupted part is then sealed as incomplete)"
        )
      }
      try FS.writeSegment(path, built.writer.buffer(from: existing.count), appending: true, faults: faults)
    } else {
      if FS.exists(path) {
        // Empty after a torn header was quarantined.
        try FS.writeSegment(path, built.writer.buffer(from: 0), appending: true, faults: faults)
      } else {
        try segmentWrites.submit(path, built.writer, faults: faults)
      }
    }
    let m = try manifest(
      customerID: plan.customerID.string, runID: runID, segment: next, timestamp: plan.asOf.rfc3339, complete: true,
      firstRecord: built.firstSeq, counts: built.counts, prev: chain, chain: built.chainHead,
      frontier: built.frontier, byteCount: built.count)
    pending.append(PendingSeal(dir: state.dir, manifest: m.0, checkpoint: m.1, index: built.index))
    streamBytes += Int64(built.count)
    let outcome = StreamOutcome(
      customerID: plan.customerID, segment: next, eventsAppended: Int(built.records - 1), counts: built.counts,
      streamBytes: streamBytes, treeSize: built.frontier.size, chainHead: built.chainHead.hex,
      merkleRoot: m.0.merkleRoot.hex)
    return (pending, outcome)
  }

  func manifest(
    customerID: String, runID: String, segment: Int64, timestamp: String, complete: Bool, firstRecord: Int64,
    counts: [EventType: Int], prev: Hash32, chain: Hash32, frontier: MerkleFrontier, byteCount: Int
  ) throws(SendplanError) -> (SealManifest, Checkpoint) {
    let root = frontier.root
    let m = SealManifest(
      customerID: customerID, runID: runID, segment: segment, timestamp: timestamp, complete: complete,
      firstRecord: firstRecord, lastRecord: frontier.size - 1, counts: counts, prevChainHead: prev,
      chainHead: chain, segmentBytes: Int64(byteCount),
      treeSize: frontier.size, merkleRoot: root, frontier: frontier.nodes,
      keyID: key.map { AuditKeys.keyID($0.publicKey) })
    var cp = Checkpoint(
      customerID: customerID, segment: segment, treeSize: frontier.size, root: root, chainHead: chain, runID: runID,
      time: timestamp, signature: nil)
    try cp.sign(with: key)
    return (m, cp)
  }
}
