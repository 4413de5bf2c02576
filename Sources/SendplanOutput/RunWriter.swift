import CSendplanSys
import Dispatch
import SendplanEngine
import SendplanModel
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// The tool's name and version as recorded in outputs.
public enum Tool {
  public static let name = "sendplan"
  public static let version = "0.1.0"
}

/// What `sendplan run` needs besides the bundle.
public struct RunOptions: Sendable {
  /// The output folder OUT.
  public var out: String
  public var asOf: Timestamp
  public var runID: String
  /// fsync every file and folder before publishing.
  public var sync: Bool
  /// Set when the bundle's tenants were cut down to one shard; recorded in run.json.
  public var shard: Shard?

  public init(out: String, asOf: Timestamp, runID: String, sync: Bool = true, shard: Shard? = nil) {
    self.out = out
    self.asOf = asOf
    self.runID = runID
    self.sync = sync
    self.shard = shard
  }

  /// The run id used when none is given: `run-` and `asOf` as `YYYYMMDDTHHMMSSZ`.
  public static func defaultRunID(asOf: Timestamp) -> String { "run-" + asOf.compact }
}

/// The outcome of one tenant in a run.
public struct TenantOutcome: Sendable {
  public var customerID: ID
  public var folder: String
  /// Planned or failed.
  public var plan: TenantPlan?
  public var failure: TenantFailure?
  /// Seconds spent planning and writing the tenant, when the run was given a clock.
  public var seconds: Double?

  public init(
    customerID: ID, folder: String, plan: TenantPlan?, failure: TenantFailure?, seconds: Double? = nil
  ) {
    self.customerID = customerID
    self.folder = folder
    self.plan = plan
    self.failure = failure
    self.seconds = seconds
  }

  public var failed: Bool { failure != nil }
}

/// The outcome of a whole run.
public struct RunResult: Sendable {
  /// Every tenant, or when the run was stopped, those finished before it stopped.
  public var tenants: [TenantOutcome]
  /// run.json; empty when the run was stopped.
  public var manifest: JSONValue
  /// The run stopped early on request: OUT was not touched and `beforePublish` was not called.
  public var stopped = false
  public var failedTenants: Int { tenants.filter(\.failed).count }
}

/// Plans every tenant in parallel and publishes OUT atomically.
public enum RunWriter {
  /// Plans `bundle` and writes OUT. `progress` is called after each tenant (from worker threads).
  ///
  /// Tenants with an entry in `refused` are not planned and are written as failed with those issues.
  /// `beforePublish` runs once every file is written and synced, before OUT is swapped in; if it throws,
  /// OUT is left as it was and the error is rethrown.
  ///
  /// `shouldStop` is asked before each tenant starts; once it says yes no further tenant starts, the ones
  /// running finish, and the run returns `stopped` without publishing. `clock` (monotonic seconds) times
  /// each tenant; the library never reads the clock itself.
  public static func run(
    bundle: ExportBundle, options: RunOptions, refused: [ID: [RowIssue]] = [:],
    afterTenant: (@Sendable (TenantOutcome, TenantFiles) throws -> Void)? = nil,
    beforePublish: (([TenantOutcome]) throws -> Void)? = nil,
    shouldStop: (@Sendable () -> Bool)? = nil,
    clock: (@Sendable () -> Double)? = nil,
    progress: (@Sendable (Int, Int) -> Void)? = nil
  ) throws -> RunResult {
    let staging = try Staging(out: options.out)
    try FS.makeDirectory(staging.temp + "/tenants")

    let folders = bundle.tenants.map { FolderName.of($0.customerID) }
    var seen = Set<String>()
    for f in folders where !seen.insert(f).inserted {
      throw OutputError(
        kind: .cannotCreate, code: "folder_collision", path: f,
        message: "two customer ids map to the same folder name",
        fix: "report this as a bug; it means a 64-bit hash collision")
    }

    let syncer = options.sync ? Syncer() : nil
    let outcomes = Mutex<[TenantOutcome?]>(Array(repeating: nil, count: bundle.tenants.count))
    let firstError = Mutex<(any Error)?>(nil)
    let done = Atomic<Int>(0)
    let stopped = Atomic<Bool>(false)
    let total = bundle.tenants.count
    // Big tenants first, so both cores finish together.
    let order = bundle.tenants.indices.sorted {
      bundle.tenants[$0].recipients.count > bundle.tenants[$1].recipients.count
    }
    DispatchQueue.concurrentPerform(iterations: total) { k in
      let i = order[k]
      if firstError.withLock({ $0 != nil }) { return }
      if stopped.load(ordering: .relaxed) || shouldStop?() == true {
        stopped.store(true, ordering: .relaxed)
        return
      }
      let tenant = bundle.tenants[i]
      let dir = staging.temp + "/tenants/" + folders[i]
      do {
        let began = clock?()
        var outcome = try writeTenant(
          tenant, folder: folders[i], dir: dir, options: options, refused: refused[tenant.customerID], syncer: syncer)
        if let began, let clock { outcome.seconds = clock() - began }
        if let afterTenant {
          try afterTenant(outcome, TenantFiles(dir: dir, sync: options.sync, syncer: syncer))
        }
        outcomes.withLock { $0[i] = outcome }
      } catch {
        firstError.withLock { if $0 == nil { $0 = error } }
      }
      let n = done.add(1, ordering: .relaxed).newValue
      progress?(n, total)
    }
    var failure = firstError.withLock { $0 }
    do {
      try syncer?.drain()
    } catch {
      failure = failure ?? error
    }
    if let failure {
      try? FS.removeTree(staging.temp)
      throw failure
    }
    let results = outcomes.withLock { $0.compactMap { $0 } }
    if stopped.load(ordering: .relaxed) && results.count < total {
      try? FS.removeTree(staging.temp)
      return RunResult(tenants: results, manifest: .object([:]), stopped: true)
    }
    if let beforePublish {
      do {
        try beforePublish(results)
      } catch {
        try? FS.removeTree(staging.temp)
        throw error
      }
    }
    let manifest = Manifest.document(bundle: bundle, outcomes: results, options: options)
    try OutputFile.write(manifest.render(), to: staging.temp + "/run.json", sync: options.sync)
    if options.sync {
      for f in folders { try FS.syncDirectory(staging.temp + "/tenants/" + f) }
      try FS.syncDirectory(staging.temp + "/tenants")
      try FS.syncDirectory(staging.temp)
    }
    try staging.publish()
    return RunResult(tenants: results, manifest: manifest)
  }

  static func writeTenant(
    _ tenant: TenantInput, folder: String, dir: String, options: RunOptions, refused: [RowIssue]?, syncer: Syncer?
  ) throws(OutputError) -> TenantOutcome {
    try FS.makeDirectory(dir)
    let result =
      refused.map {
        Result<TenantPlan, TenantFailure>.failure(TenantFailure(customerID: tenant.customerID, issues: $0))
      }
      ?? Planner.plan(tenant, asOf: options.asOf)
    switch result {
    case .failure(let failure):
      let doc = JSONValue.object([
        "customerId": .string(tenant.customerID.string),
        "status": .string("failed"),
        "errors": Manifest.issues(failure.issues),
      ])
      try OutputFile.write(doc.render(), to: dir + "/errors.json", sync: options.sync, syncer: syncer)
      return TenantOutcome(customerID: tenant.customerID, folder: folder, plan: nil, failure: failure)
    case .success(let plan):
      try TenantWriter.writeDryRuns(plan, to: dir + "/dry-runs.jsonl", sync: options.sync, syncer: syncer)
      try OutputFile.write(
        TenantWriter.queueDocument(plan, runID: options.runID), to: dir + "/queue.json", sync: options.sync,
        syncer: syncer)
      return TenantOutcome(customerID: tenant.customerID, folder: folder, plan: plan, failure: nil)
    }
  }
}

/// Lets a run hook add files to a tenant's folder, written and synced like the others.
public struct TenantFiles: Sendable {
  /// The tenant's folder in the staging copy of OUT.
  public let dir: String
  let sync: Bool
  let syncer: Syncer?

  /// Writes `name` in the tenant's folder and returns its path.
  @discardableResult
  public func write(_ name: String, _ bytes: [UInt8]) throws(OutputError) -> String {
    let path = dir + "/" + name
    try OutputFile.write(bytes, to: path, sync: sync, syncer: syncer)
    return path
  }
}

/// A temporary folder beside OUT that replaces OUT only once complete.
struct Staging {
  let out: String
  let temp: String
  let parent: String

  init(out: String) throws(OutputError) {
    var trimmed = out
    while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
    let slash = trimmed.lastIndex(of: "/")
    let parent = slash.map { $0 == trimmed.startIndex ? "/" : String(trimmed[..<$0]) } ?? "."
    let base = slash.map { String(trimmed[trimmed.index(after: $0)...]) } ?? trimmed
    guard !base.isEmpty, base != ".", base != ".." else {
      throw OutputError(
        kind: .cannotCreate, code: "bad_out", path: out, message: "OUT must name a folder, not . or ..",
        fix: "pass --out a folder name such as out/")
    }
    guard FS.isDirectory(parent) else {
      throw OutputError(
        kind: .cannotCreate, code: "no_parent", path: parent, message: "the folder that should hold OUT does not exist",
        fix: "create \(parent) first")
    }
    if FS.exists(trimmed) {
      guard FS.isDirectory(trimmed) else {
        throw OutputError(
          kind: .cannotCreate, code: "out_not_folder", path: trimmed, message: "OUT exists and is not a folder",
          fix: "choose another --out or remove the file")
      }
      guard FS.exists(trimmed + "/run.json") || Staging.isEmptyDirectory(trimmed) else {
        throw OutputError(
          kind: .cannotCreate, code: "out_not_sendplan", path: trimmed,
          message: "OUT exists but holds no run.json, so it is not a sendplan output; refusing to replace it",
          fix: "choose another --out, or empty the folder")
      }
    }
    self.out = trimmed
    self.parent = parent
    self.temp = parent + "/." + base + ".sendplan-tmp"
    // A folder left by a crashed run is ours to clear.
    try FS.removeTree(temp)
    try FS.makeDirectory(temp)
  }

  static func isEmptyDirectory(_ path: String) -> Bool {
    guard let d = opendir(path) else { return false }
    defer { closedir(d) }
    var count = 0
    while readdir(d) != nil { count += 1 }
    return count <= 2
  }

  /// Swaps the finished folder into place: an atomic exchange when OUT exists, else a rename.
  func publish() throws(OutputError) {
    if FS.exists(out) {
      if sendplan_rename_exchange(temp, out) != 0 {
        let err = errno
        throw OutputError(
          kind: .io, code: "publish_failed", path: out, message: "cannot swap in the new output: \(FS.errorText(err))",
          fix: "check the file system; the previous OUT is unchanged")
      }
      try FS.syncDirectory(parent)
      try FS.removeTree(temp)
    } else {
      if rename(temp, out) != 0 {
        let err = errno
        throw OutputError(
          kind: .io, code: "publish_failed", path: out,
          message: "cannot move the new output into place: \(FS.errorText(err))",
          fix: "check the file system, then re-run")
      }
      try FS.syncDirectory(parent)
    }
  }
}
