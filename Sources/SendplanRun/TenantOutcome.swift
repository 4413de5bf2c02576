import SendplanAudit
import SendplanEngine
import SendplanModel

/// The outcome of one tenant in a run.
package struct TenantOutcome: Sendable {
  package var customerID: ID
  /// The tenant's folder under `OUT/tenants`.
  package var folder: String
  /// Planned or failed.
  package var plan: TenantPlan?
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
    self.failure = failure
    self.seconds = seconds
  }

  package var failed: Bool { failure != nil }
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
