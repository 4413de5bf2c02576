import Crypto
import Dispatch
import SendplanDiagnostics
import SendplanEngine
import SendplanFileSystem
import SendplanModel
import Synchronization

/// What `prepare` found for one tenant's stream.
public enum StreamPreparation: Sendable {
  /// Ready to take this run's events.
  case ready
  /// This run is already sealed in the stream (segment n): nothing to do.
  case alreadySealed(segment: Int64)
  /// The stream cannot be appended to safely; the tenant must not be planned into it.
  case refused(SendplanError)
}

/// What happened to one tenant's stream in a run.
public struct StreamOutcome: Sendable {
  public var customerID: ID
  public var segment: Int64
  public var eventsAppended: Int
  public var counts: [EventType: Int]
  /// Bytes of all segments after the run.
  public var streamBytes: Int64
  /// The stream after this run: records, last record hash and Merkle root (hex).
  public var treeSize: Int64
  public var chainHead: String
  public var merkleRoot: String
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
  /// stream.json must be (re)written before appending.
  var needsIdentity = true
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

/// Writes new segments on one background thread, so that the workers go on planning while a
/// segment goes to disk. Direct I/O waits for the device; done by the workers it left a core idle
/// for an eighth of a nightly run.
final class SegmentWrites: @unchecked Sendable {
  private let queue = DispatchQueue(label: "sendplan.audit.segments")
  private let group = DispatchGroup()
  /// Segments built but not yet written, at most; a worker waits for a free slot (bounded memory).
  private let slots = DispatchSemaphore(value: 8)
  private let failure = Mutex<SendplanError?>(nil)

  /// Queues `bytes` to be written to the new file `path`; throws an earlier write's error, if any.
  func submit(_ path: String, _ bytes: ByteWriter, faults: FaultPoints?) throws(SendplanError) {
    if let e = failure.withLock({ $0 }) { throw e }
    // The builder is done with the buffer; from here on it is only read.
    let handoff = Handoff(bytes: bytes)
    slots.wait()
    queue.async(group: group) { [self] in
      let bytes = handoff.bytes
      defer { slots.signal() }
      if failure.withLock({ $0 != nil }) { return }
      do throws(SendplanError) {
        try FS.writeSegment(path, bytes.buffer(from: 0), appending: false, faults: faults)
      } catch {
        failure.withLock { if $0 == nil { $0 = error } }
      }
    }
  }

  private struct Handoff: @unchecked Sendable { let bytes: ByteWriter }

  /// Waits for every queued segment; throws the first write error.
  func drain() throws(SendplanError) {
    group.wait()
    if let e = failure.withLock({ $0 }) { throw e }
  }
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
/// A run takes the folder's lock and `prepare`s every tenant's stream (recovering what a crash left).
/// As each plan is made, `append` writes its segment, manifest, checkpoint, index and the next head
/// (as `head.json.tmp`). `commit` syncs the file system, renames every head into place and syncs
/// again. A crash at any point leaves either the previous committed state plus an unsealed segment
/// (which the next run completes) or the new committed state.
// Unchecked only because swift-crypto's key type is not marked Sendable; the key is immutable.
public final class AuditWriter: @unchecked Sendable {
  public let layout: AuditLayout
  let runID: String
  let asOf: Timestamp
  let key: Curve25519.Signing.PrivateKey?
  let faults: FaultPoints?
  let lock: AuditLock
  let prepared = Mutex<(states: [ID: StreamState], notices: [String])>(([:], []))
  var states: [ID: StreamState] { prepared.withLock { $0.states } }
  var notices: [String] { prepared.withLock { $0.notices } }

  /// Creates the folder if needed and takes its lock.
  public init(
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

  /// Starts reading, and changing nothing, what `prepare` will read of every stream in the folder,
  /// so that it finds it in the page cache; `wait()` on the result before calling `prepare`. Meant
  /// to run while the bundle is read (which only then names the tenants): on a cold start `prepare`
  /// spent most of its time waiting for the disk, a few small reads per stream, with the cores idle.
  public func startWarming(threads: Int = 8) -> Warming {
    let group = DispatchGroup()
    guard let names = try? FS.list(layout.streams), !names.isEmpty else { return Warming(group: group) }
    let next = Atomic<Int>(0)
    for _ in 0..<max(1, min(threads, names.count)) {
      DispatchQueue.global().async(group: group) { [layout] in
        while true {
          let i = next.add(1, ordering: .relaxed).oldValue
          guard i < names.count else { return }
          Self.warmStream(layout.streams + "/" + names[i])
        }
      }
    }
    return Warming(group: group)
  }

  /// Reads started by `startWarming`.
  public struct Warming {
    let group: DispatchGroup
    /// Waits until every stream has been read.
    public func wait() { group.wait() }
  }

  /// Bytes at the end of the last sealed segment that `prepare` reads to check its chain head.
  static let sealedTailCheck: Int64 = 4096

  static func warmStream(_ dir: String) {
    guard let files = try? StreamFiles.scan(dir) else { return }
    _ = try? FS.read(AuditLayout.identity(dir))
    let committed = (try? files.committed(dir))?.segment ?? 0
    if committed > 0 {
      _ = try? FS.read(AuditLayout.manifest(dir, committed))
      let spath = AuditLayout.segment(dir, committed)
      if let size = FS.size(spath) {
        let n = min(size, Self.sealedTailCheck)
        _ = try? FS.read(spath, offset: size - n, length: Int(n))
      }
    }
    if files.lastLog > committed { _ = try? FS.read(AuditLayout.segment(dir, files.lastLog)) }
  }

  /// Inspects and, where a crash left a torn tail, repairs every tenant's stream. In parallel.
  public func prepare(_ customerIDs: [ID]) -> [StreamPreparation] {
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
    let scan = SegmentScan.read(
      bytes, number: number, customerID: state.customerID.string, chain: state.chainHead, frontier: state.frontier)
    switch scan.problem {
    case .none:
      break
    case .bad(let line, _, let what, _):
      throw SendplanError(
        .badData, code: "audit_corrupt", path: path, line: line,
        message:
          "\(what); the damage is not at the end of the file, so it is not a torn write and will not be repaired",
        fix: "restore the stream from a backup or an export; run `sendplan audit verify` for the full picture")
    case .tornTail(let offset, let count):
      let qdir = AuditLayout.quarantine(state.dir)
      try FS.makeDirectory(qdir, existingOK: true)
      let qpath = qdir + "/" + AuditLayout.number(number) + "-at-\(offset).torn"
      try FS.writeFile(qpath, Array(bytes[offset...]), faults: faults)
      try FS.sync(qpath, faults: faults)
      try FS.sync(qdir, faults: faults)
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

  func corrupt(_ path: String, _ code: String, _ message: String) -> SendplanError {
    SendplanError(
      .badData, code: code, path: path, message: message + "; refusing to append to this stream",
      fix: "run `sendplan audit verify` and restore the stream from a backup or an export")
  }

  /// Builds and writes one tenant's segment; safe to call from several threads for different tenants.
  /// Tenants `prepare` did not find ready are skipped.
  /// Returns the stream's state after this run, or, for a tenant whose stream already holds the run,
  /// the state that run sealed; nil when the tenant was refused.
  @discardableResult
  public func append(_ plan: TenantPlan) throws(SendplanError) -> StreamOutcome? {
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
  public func commit(alreadySealed: Int) throws(SendplanError) -> AuditSummary {
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
            "the interrupted run \(runID) wrote events that differ from what this run plans; the bundle or --as-of changed since",
          fix:
            "re-run with the original bundle and --as-of, or use a new --run-id (the interrupted part is then sealed as incomplete)"
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
