import SendplanAudit
import SendplanEngine
import SendplanModel

/// The outcome of one tenant in a run.
package struct TenantOutcome: Sendable {
  package var customerID: ID
  /// The tenant's folder under `OUT/tenants`.
  package var folder: String
  /// The plan, while the tenant's writers and the observer use it; the run keeps only ``summary``.
  package var plan: TenantPlan?
  /// What run.json records of a planned tenant; set whenever `plan` is, and kept after it is dropped.
  package var summary: PlanSummary?
  package var failure: TenantFailure?
  /// Seconds spent planning and writing the tenant, by the caller's clock.
  package var seconds: Double?
  /// What this run appended to the tenant's audit stream, when the run is audited.
  package var audit: StreamOutcome?
  /// Seconds spent appending to the audit stream.
  package var auditSeconds: Double?

  package init(
    customerID: ID, folder: String, plan: TenantPlan?, failure: TenantFailure?, seconds: Double? = nil
  ) {
    self.customerID = customerID
    self.folder = folder
    self.plan = plan
    self.summary = plan.map(PlanSummary.init)
    self.failure = failure
    self.seconds = seconds
  }

  /// The outcome without its plan, as the run keeps it once the tenant is written: memory then
  /// grows with the number of tenants, not with their items.
  package var withoutPlan: TenantOutcome {
    var o = self
    o.plan = nil
    return o
  }

  package var failed: Bool { failure != nil }
}

/// The counts run.json records of a planned tenant.
package struct PlanSummary: Sendable, Equatable {
  package var counts: PlanCounts
  package var enrollments: Int
  /// Completed and cancelled enrollments, by status name.
  package var notPlanned: [String: Int]
  /// Enrollment-level error codes and how many enrollments have each.
  package var errorsByCode: [String: Int]
  package var orphanRecipients: Int
  package var orphanSteps: Int

  package init(_ plan: TenantPlan) {
    counts = plan.counts
    enrollments = plan.enrollments.count
    notPlanned = plan.notPlanned
    var codes: [String: Int] = [:]
    for e in plan.enrollments {
      for err in e.errors { codes[err.rawValue, default: 0] += 1 }
    }
    errorsByCode = codes
    orphanRecipients = plan.orphans.recipients.count
    orphanSteps = plan.orphans.steps.count
  }
}

/// The outcome of a whole run.
package struct RunResult: Sendable {
  /// Every tenant, or when the run was stopped, those finished before it stopped.
  package var tenants: [TenantOutcome]
  /// Tenants the run set out to plan (after the shard filter).
  package var tenantsTotal: Int
  /// run.json; empty when the run was stopped.
  package var manifest: [UInt8]
  /// The run stopped early on request: OUT was not touched.
  package var stopped: Bool
  /// The audit side, when the run is audited; also set for a stopped run (the tenants done are sealed).
  package var audit: AuditSummary?
  /// Tenants whose streams had this run sealed already, left unchanged.
  package var alreadySealed: Int

  package var failedTenants: Int { tenants.filter(\.failed).count }
}
