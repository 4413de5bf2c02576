import CSendplanSys
import SendplanAudit
import SendplanDiagnostics
import SendplanEngine
import SendplanFileSystem
import SendplanInput
import SendplanModel
import SendplanReport

/// One run of sendplan, in stages: open the audit (lock and recovery), read the bundle into tenants,
/// plan each tenant and send it to its writers (dry runs and queue, audit stream, reports), seal the
/// audit, publish OUT atomically. A stop request ends it cleanly between tenants.
///
/// Both executables use it: `sendplan run` for a whole bundle, `sendplan-serve` for one enrollment
/// (``planEnrollment(_:of:)``). It reports what happens as ``RunEvent`` values to its observer, and
/// takes the clock and the stop request from its caller; it never logs, prints or reads the environment.
package struct RunPipeline: Sendable {
  package let options: RunOptions
  let observer: any RunObserver
  let clock: @Sendable () -> Double
  let shouldStop: @Sendable () -> Bool

  /// `clock` gives monotonic seconds for timings; `shouldStop` is asked before each tenant starts.
  package init(
    options: RunOptions, observer: any RunObserver, clock: @escaping @Sendable () -> Double,
    shouldStop: @escaping @Sendable () -> Bool = { false }
  ) {
    self.options = options
    self.observer = observer
    self.clock = clock
    self.shouldStop = shouldStop
  }

  /// Runs every stage. Throws the failing stage's ``SendplanError`` (or ``SendplanErrors`` for a bundle
  /// with structural errors) after sending `stageFailed`; OUT is then unchanged.
  package func run() throws -> RunResult {
    let start = clock()
    // The lock comes first, so a second run is refused at once.
    let audit = try stage(.openAudit) { () throws(SendplanError) in try openAudit() }
    let reporter = try stage(.loadReports) { () throws(SendplanError) in
      try options.reports ? Reporter.load(templatesDir: options.templatesDir) : nil
    }
    let partitions = partitionCount()
    if partitions.count > 1 {
      observer.observe(
        .partitioned(
          count: partitions.count, estimatedBytes: partitions.estimatedBytes, limit: options.memoryLimit ?? 0))
    }
    var warming = audit?.startWarming()
    var staging: Staging?
    var first: ExportBundle?
    var outcomes: [TenantOutcome] = []
    var folders: [String] = []
    var seenFolders = Set<String>()
    var alreadySealed = 0
    var tenantsTotal = 0
    var stopped = false
    do {
      // One partition at a time: memory follows the largest partition, not the bundle.
      for part in 0..<partitions.count {
        // The rows of the partition just planned go back to the system before the next is read: the
        // reader's threads allocate in glibc's per-thread arenas, and the next partition's rows did
        // not land in the space the last one freed, so peak RSS grew with every partition.
        if part > 0 { sendplan_release_free_memory() }
        let bundle = try readBundle(partition: part, of: partitions.count, warming: warming, start: start)
        warming = nil
        if let files = first, let changed = changedFile(files.inputs, bundle.inputs, pass: part + 1) {
          observer.observe(.stageFailed(.readBundle, [changed]))
          throw changed
        }
        if first == nil, let shard = options.shard {
          let all = bundle.tenants.count + bundle.tenantsDropped
          observer.observe(.shardSelected(shard, tenants: bundle.tenants.count, of: all))
        }
        tenantsTotal += bundle.tenants.count
        warnOverLimit(bundle, estimatedBytes: partitions.estimatedBytes)
        let prepared = prepare(audit, bundle.tenants)
        alreadySealed += prepared.alreadySealed
        if staging == nil {
          staging = try stage(.publish) { () throws(SendplanError) in try Staging(out: options.out) }
        }
        guard let staging else { break }
        let names = try stage(.plan) { () throws(SendplanError) in
          try makeFolders(bundle.tenants, staging: staging, seen: &seenFolders, createRoot: first == nil)
        }
        folders += names
        if first == nil {
          // run.json needs only the file list: keeping the first partition's rows as well held two
          // partitions in memory from the second one on.
          var files = bundle
          files.tenants = []
          first = files
        }
        var weights: [ID: Int] = [:]
        for t in bundle.tenants { weights[t.customerID] = t.recipients.count + 1 }
        observer.observe(.planning(weights: weights))
        let context = ReportContext(
          runID: options.runID, toolVersion: Tool.version, inputs: bundle.inputs.map(ReportInput.init))
        let writers = TenantWriters(
          asOf: options.asOf, runID: options.runID, audit: audit, reporter: reporter, context: context,
          signed: options.signingKeyPath != nil, clock: clock)
        let fanOut = TenantFanOut(
          tenants: bundle.tenants, folders: names, staging: staging, writers: writers, refused: prepared.refused,
          sync: options.sync, observer: observer, shouldStop: shouldStop)
        do {
          let planned = try fanOut.run()
          outcomes += planned.outcomes
          stopped = planned.stopped
        } catch {
          observer.observe(.stageFailed(error.stage, [error.error]))
          throw error.error
        }
        if stopped { break }
      }
    } catch {
      // A pass that fails leaves nothing of the earlier ones behind.
      if let staging { try? FS.removeTree(staging.temp) }
      throw error
    }
    guard let staging, let bundle = first else {
      throw SendplanError(.io, code: "no_partition", message: "nothing was read", fix: "report this as a bug")
    }
    outcomes.sort { $0.customerID < $1.customerID }
    var result = RunResult(
      tenants: outcomes, tenantsTotal: tenantsTotal, manifest: [], stopped: stopped, audit: nil,
      alreadySealed: alreadySealed)
    if let audit {
      result.audit = try stage(.seal) { () throws(SendplanError) in
        do throws(SendplanError) {
          return try audit.commit(alreadySealed: alreadySealed)
        } catch {
          if !stopped { try? FS.removeTree(staging.temp) }
          throw error
        }
      }
    }
    if stopped {
      observer.observe(.stopped(done: outcomes.count, total: tenantsTotal, sealed: result.audit))
      return result
    }
    if let summary = result.audit { observer.observe(.auditSealed(summary, alreadySealed: alreadySealed)) }
    result.manifest = try stage(.publish) { () throws(SendplanError) in
      try publish(bundle: bundle, outcomes: outcomes, folders: folders, staging: staging)
    }
    observer.observe(.published(out: staging.out))
    return result
  }

  /// How many partitions the bundle is read in: enough that each fits the memory limit, by an
  /// estimate from the input sizes (``MemoryEstimate``).
  func partitionCount() -> (count: Int, estimatedBytes: Int) {
    guard let limit = options.memoryLimit, limit > 0 else { return (1, 0) }
    let perShard = options.shard?.count ?? 1
    let sizes = BundleReader.inputSizes(path: options.input)
    var estimate = MemoryEstimate.bytes(plain: sizes.plain, compressed: sizes.compressed) / perShard
    if estimate > limit {
      // Over the limit by the sizes alone: the line counts cost one read of the plain files (which
      // the parse then finds in the page cache) and may save whole passes over the bundle.
      let counted = BundleReader.inputSizes(path: options.input, countingLines: true)
      estimate =
        MemoryEstimate.bytes(plain: counted.plain, plainLines: counted.plainLines, compressed: counted.compressed)
        / perShard
    }
    return (min(MemoryEstimate.maxPartitions, max(1, (estimate + limit - 1) / limit)), estimate)
  }

  /// Each pass over the bundle must read the files the first pass read: a file that changed in
  /// between (an export still being written) would mix two exports in one run.
  func changedFile(_ first: [InputFile], _ now: [InputFile], pass: Int) -> SendplanError? {
    let fix = "write each export to a new folder and start the run once it is complete, then re-run"
    for k in 0..<max(first.count, now.count) {
      let a = k < first.count ? first[k] : nil
      let b = k < now.count ? now[k] : nil
      if let a, let b, a.name == b.name, a.bytes == b.bytes, a.sha256 == b.sha256 { continue }
      let name = a?.name ?? b?.name ?? options.input
      func read(_ f: InputFile?) -> String {
        guard let f else { return "no such file" }
        return f.name == name ? "\(f.bytes) bytes (SHA-256 \(f.sha256))" : "\(f.name) in its place"
      }
      return SendplanError(
        .badData, code: "bundle_changed", path: name,
        message:
          "the file changed while the run read the bundle: the first pass read \(read(a)), pass \(pass) read \(read(b))",
        fix: fix)
    }
    return nil
  }

  /// Says which tenants alone are over the memory limit, by their share of the bundle's rows.
  func warnOverLimit(_ bundle: ExportBundle, estimatedBytes: Int) {
    guard let limit = options.memoryLimit, limit > 0, estimatedBytes > 0 else { return }
    let rows = max(1, bundle.inputs.reduce(0) { $0 + $1.rows })
    for t in bundle.tenants {
      let mine =
        t.recipients.count + t.enrollments.count + t.suppressions.count + t.steps.count + t.templates.count
        + t.sequences.count + t.identities.count + t.batches.count
      let bytes = Int(Double(estimatedBytes) * Double(mine) / Double(rows))
      if bytes > limit { observer.observe(.tenantOverLimit(t.customerID, estimatedBytes: bytes, limit: limit)) }
    }
  }

  /// Takes the audit folder's lock and loads the signing key, when the run is audited.
  func openAudit() throws(SendplanError) -> AuditWriter? {
    guard let dir = options.auditDir else { return nil }
    let key = try options.signingKeyPath.map { k throws(SendplanError) in try AuditKeys.loadPrivate(k) }
    return try AuditWriter(
      root: dir, runID: options.runID, asOf: options.asOf, key: key, faults: options.faults, shard: options.shard)
  }

  /// Reads one partition of the bundle (this shard's tenants in it), the first while the audit
  /// streams are read into the page cache.
  func readBundle(partition: Int, of count: Int, warming: AuditWriter.Warming?, start: Double) throws -> ExportBundle {
    let bundle: ExportBundle
    let shard = options.shard
    let filter: TenantFilter? =
      shard == nil && count == 1
      ? nil
      : TenantFilter { id in
        (shard?.contains(id) ?? true) && (count == 1 || Shard.partition(of: id, count: count) == partition)
      }
    do {
      bundle = try BundleReader.read(path: options.input, filter: filter, limits: options.readLimits)
    } catch {
      warming?.wait()
      observer.observe(.stageFailed(.readBundle, error.errors))
      throw error
    }
    warming?.wait()
    observer.observe(
      .bundleRead(
        files: bundle.inputs.count, rows: bundle.inputs.reduce(0) { $0 + $1.rows }, tenants: bundle.tenants.count,
        seconds: clock() - start))
    return bundle
  }

  /// Recovers every tenant's stream; a stream that cannot be appended to safely fails its tenant.
  func prepare(_ audit: AuditWriter?, _ tenants: [TenantInput]) -> (refused: [ID: [RowIssue]], alreadySealed: Int) {
    guard let audit else { return ([:], 0) }
    var refused: [ID: [RowIssue]] = [:]
    var alreadySealed = 0
    for (t, p) in zip(tenants, audit.prepare(tenants.map(\.customerID))) {
      switch p {
      case .ready: break
      case .alreadySealed: alreadySealed += 1
      case .refused(let e):
        refused[t.customerID] = [
          RowIssue(file: e.path, line: e.line ?? 0, code: e.code, message: e.message, fix: e.fix)
        ]
      }
    }
    return (refused, alreadySealed)
  }

  /// One folder per tenant in the staging copy, named from the customer id and never from raw input.
  func makeFolders(_ tenants: [TenantInput], staging: Staging, seen: inout Set<String>, createRoot: Bool)
    throws(SendplanError) -> [String]
  {
    if createRoot { try FS.makeDirectory(staging.temp + "/tenants") }
    let folders = tenants.map { FolderName.of($0.customerID) }
    for f in folders where !seen.insert(f).inserted {
      throw SendplanError(
        .cannotCreate, code: "folder_collision", path: f, message: "two customer ids map to the same folder name",
        fix: "report this as a bug; it means a 64-bit hash collision")
    }
    return folders
  }

  /// Writes run.json, syncs the staging folders and swaps them in for OUT.
  func publish(bundle: ExportBundle, outcomes: [TenantOutcome], folders: [String], staging: Staging)
    throws(SendplanError) -> [UInt8]
  {
    let manifest = Manifest.document(bundle: bundle, outcomes: outcomes, options: options).render()
    try OutputFile.write(manifest, to: staging.temp + "/run.json", sync: options.sync)
    if options.sync {
      for f in folders { try FS.syncDirectory(staging.temp + "/tenants/" + f) }
      try FS.syncDirectory(staging.temp + "/tenants")
      try FS.syncDirectory(staging.temp)
    }
    try staging.publish()
    return manifest
  }

  /// Runs one stage; a failure is reported to the observer before it is thrown.
  func stage<T>(_ s: RunStage, _ body: () throws(SendplanError) -> T) throws(SendplanError) -> T {
    do {
      return try body()
    } catch {
      observer.observe(.stageFailed(s, [error]))
      throw error
    }
  }
}
