import Dispatch
import SendplanDiagnostics
import SendplanFileSystem
import SendplanModel
import Synchronization

/// The planning stage: every tenant through its writers, on all cores, into the staging copy of OUT.
struct TenantFanOut {
  let tenants: [TenantInput]
  let folders: [String]
  let staging: Staging
  let writers: TenantWriters
  let refused: [ID: [RowIssue]]
  let sync: Bool
  let observer: any RunObserver
  let shouldStop: @Sendable () -> Bool

  /// Tenants finished, in bundle order, and whether a stop request cut the run short.
  /// On a failure the staging folder is removed and the first error is thrown.
  func run() throws(StagedError) -> (outcomes: [TenantOutcome], stopped: Bool) {
    let syncer = sync ? Syncer() : nil
    let outcomes = Mutex<[TenantOutcome?]>(Array(repeating: nil, count: tenants.count))
    let firstError = Mutex<StagedError?>(nil)
    let stopped = Atomic<Bool>(false)
    // Big tenants first, so both cores finish together.
    let order = tenants.indices.sorted { tenants[$0].recipients.count > tenants[$1].recipients.count }
    DispatchQueue.concurrentPerform(iterations: tenants.count) { k in
      let i = order[k]
      if firstError.withLock({ $0 != nil }) { return }
      if stopped.load(ordering: .relaxed) || shouldStop() {
        stopped.store(true, ordering: .relaxed)
        return
      }
      let tenant = tenants[i]
      let files = FolderWriter(dir: staging.temp + "/tenants/" + folders[i], sync: sync, syncer: syncer)
      do throws(StagedError) {
        let outcome = try writers.write(tenant, folder: folders[i], files: files, refused: refused[tenant.customerID])
        observer.observe(.tenantFinished(outcome))
        outcomes.withLock { $0[i] = outcome.withoutPlan }
      } catch {
        firstError.withLock { if $0 == nil { $0 = error } }
      }
    }
    var failure = firstError.withLock { $0 }
    do throws(SendplanError) {
      try syncer?.drain()
    } catch {
      failure = failure ?? StagedError(stage: .plan, error: error)
    }
    // The pipeline removes the staging folder when a pass fails.
    if let failure { throw failure }
    let results = outcomes.withLock { $0.compactMap { $0 } }
    let wasStopped = stopped.load(ordering: .relaxed) && results.count < tenants.count
    if wasStopped { try? FS.removeTree(staging.temp) }
    return (results, wasStopped)
  }
}
