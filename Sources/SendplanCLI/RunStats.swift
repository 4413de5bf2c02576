import SendplanEngine
import SendplanRun
import Synchronization

/// What the run has done so far, shared by the worker threads.
final class RunStats: @unchecked Sendable {
  struct Tenant: Sendable {
    var customerID: String
    var dryRuns: Int
    var auditEvents: Int?
    var auditBytes: Int64?
  }

  struct Snapshot: Sendable {
    var tenants: [Tenant]
    var planned: Int
    var failed: Int
    var totals: PlanCounts
  }

  private let state = Mutex(Snapshot(tenants: [], planned: 0, failed: 0, totals: PlanCounts()))

  /// Records a finished tenant; returns how many are done.
  func record(_ outcome: TenantOutcome) -> Int {
    state.withLock { s in
      if let plan = outcome.plan {
        s.planned += 1
        s.totals.merge(plan.counts)
        s.tenants.append(
          Tenant(
            customerID: outcome.customerID.string, dryRuns: plan.enrollments.count,
            auditEvents: outcome.audit?.eventsAppended,
            auditBytes: outcome.audit.flatMap { $0.streamBytes > 0 ? $0.streamBytes : nil }))
      } else {
        s.failed += 1
      }
      return s.planned + s.failed
    }
  }

  func snapshot() -> Snapshot { state.withLock { $0 } }
}
