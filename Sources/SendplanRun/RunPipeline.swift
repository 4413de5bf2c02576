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
    let bundle = try readBundle(warming: audit?.startWarming(), start: start)
    if let shard = options.shard {
      let all = bundle.tenants.count + bundle.tenantsDropped
      observer.observe(.shardSelected(shard, tenants: bundle.tenants.count, of: all))
    }
    let prepared = prepare(audit, bundle.tenants)
    let staging = try stage(.publish) { () throws(SendplanError) in try Staging(out: options.out) }
    let folders = try stage(.plan) { () throws(SendplanError) in try makeFolders(bundle.tenants, staging: staging) }
    var weights: [ID: Int] = [:]
    for t in bundle.tenants { weights[t.customerID] = t.recipients.count + 1 }
    observer.observe(.planning(weights: weights))
    let context = ReportContext(runID: options.runID, toolVersion: Tool.version, inputs: bundle.inputs.map(ReportInput.init))
    let writers = TenantWriters(
      asOf: options.asOf, runID: options.runID, audit: audit, reporter: reporter, context: context,
      signed: options.signingKeyPath != nil, clock: clock)
    let fanOut = TenantFanOut(
      tenants: bundle.tenants, folders: folders, staging: staging, writers: writers, refused: prepared.refused,
      sync: options.sync, observer: observer, shouldStop: shouldStop)
    let planned: (outcomes: [TenantOutcome], stopped: Bool)
    do {
      planned = try fanOut.run()
    } catch {
      observer.observe(.stageFailed(error.stage, [error.error]))
      throw error.error
    }
    var result = RunResult(
      tenants: planned.outcomes, tenantsTotal: bundle.tenants.count, manifest: [], stopped: planned.stopped,
      audit: nil, alreadySealed: prepared.alreadySealed)
    if let audit {
      result.audit = try stage(.seal) { () throws(SendplanError) in
        do throws(SendplanError) {
          return try audit.commit(alreadySealed: prepared.alreadySealed)
        } catch {
          if !planned.stopped { try? FS.removeTree(staging.temp) }
          throw error
        }
      }
    }
    if planned.stopped {
      observer.observe(.stopped(done: planned.outcomes.count, total: bundle.tenants.count, sealed: result.audit))
      return result
    }
    if let summary = result.audit { observer.observe(.auditSealed(summary, alreadySealed: prepared.alreadySealed)) }
    result.manifest = try stage(.publish) { () throws(SendplanError) in
      try publish(bundle: bundle, outcomes: planned.outcomes, folders: folders, staging: staging)
    }
    observer.observe(.published(out: staging.out))
    return result
  }

  /// Takes the audit folder's lock and loads the signing key, when the run is audited.
  func openAudit() throws(SendplanError) -> AuditWriter? {
    guard let dir = options.auditDir else { return nil }
    let key = try options.signingKeyPath.map { k throws(SendplanError) in try AuditKeys.loadPrivate(k) }
    return try AuditWriter(
      root: dir, runID: options.runID, asOf: options.asOf, key: key, faults: options.faults, shard: options.shard)
  }

  /// Reads the bundle while the audit streams are read into the page cache.
  func readBundle(warming: AuditWriter.Warming?, start: Double) throws -> ExportBundle {
    let bundle: ExportBundle
    do {
      bundle = try BundleReader.read(path: options.input, filter: options.shard.map(TenantFilter.init(shard:)))
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
        refused[t.customerID] = [RowIssue(file: e.path, line: e.line ?? 0, code: e.code, message: e.message, fix: e.fix)]
      }
    }
    return (refused, alreadySealed)
  }

  /// One folder per tenant in the staging copy, named from the customer id and never from raw input.
  func makeFolders(_ tenants: [TenantInput], staging: Staging) throws(SendplanError) -> [String] {
    try FS.makeDirectory(staging.temp + "/tenants")
    let folders = tenants.map { FolderName.of($0.customerID) }
    var seen = Set<String>()
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
