import SendplanAudit
import SendplanDiagnostics
import SendplanModel

/// The stages of a run, in order.
package enum RunStage: String, Sendable {
  case openAudit, loadReports, readBundle, prepareAudit, plan, appendAudit, writeReports, seal, publish
}

/// What a run reports as it goes. The pipeline sends these values and does nothing else to be
/// observed: the caller logs them, draws progress and writes metrics.
package enum RunEvent: Sendable {
  /// The bundle was read: `files` files with `rows` rows in all, `tenants` tenants, after `seconds`.
  case bundleRead(files: Int, rows: Int, tenants: Int, seconds: Double)
  /// The bundle is estimated at `estimatedBytes` in memory, over `limit`, so it is read and planned
  /// in `count` partitions of tenants, one after the other.
  case partitioned(count: Int, estimatedBytes: Int, limit: Int)
  /// One tenant alone is estimated over the memory limit; it is planned anyway, with about that much.
  case tenantOverLimit(ID, estimatedBytes: Int, limit: Int)
  /// The run keeps only one shard's tenants.
  case shardSelected(Shard, tenants: Int, of: Int)
  /// Planning starts; each tenant's weight (about its recipients) lets progress estimate the rest.
  case planning(weights: [ID: Int])
  /// One tenant is planned or failed, its files written and its events appended. Sent from worker threads.
  case tenantFinished(TenantOutcome)
  /// The audit trail sealed the run for these streams.
  case auditSealed(AuditSummary, alreadySealed: Int)
  /// The stop request was honoured after `done` of `total` tenants; OUT is unchanged.
  case stopped(done: Int, total: Int, sealed: AuditSummary?)
  /// A stage failed with these errors; the run ends without publishing.
  case stageFailed(RunStage, [SendplanError])
  /// OUT now holds this run.
  case published(out: String)
}

/// Receives a run's events, from any thread.
package protocol RunObserver: Sendable {
  func observe(_ event: RunEvent)
}
