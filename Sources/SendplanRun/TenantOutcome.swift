import SendplanAudit
import SendplanEngine
import SendplanModel

/// The outcome of one tenant in a run.
public struct TenantOutcome: Sendable {
  public var customerID: ID
  /// The tenant's folder under `OUT/tenants`.
  public var folder: String
  /// Planned or failed.
  public var plan: TenantPlan?
  public var failure: TenantFailure?
  /// Seconds spent planning and writing the tenant, by the caller's clock.
  public var seconds: Double?
  /// What this run appended to the tenant's audit stream, when the run is audited.
  public var audit: StreamOutcome?
  /// Seconds spent appending to the audit stream.
  public var auditSeconds: Double?

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
  /// Tenants the run set out to plan (after the shard filter).
  public var tenantsTotal: Int
  /// run.json; empty when the run was stopped.
  public var manifest: [UInt8]
  /// The run stopped early on request: OUT was not touched.
  public var stopped: Bool
  /// The audit side, when the run is audited; also set for a stopped run (the tenants done are sealed).
  public var audit: AuditSummary?
  /// Tenants whose streams had this run sealed already, left unchanged.
  public var alreadySealed: Int

  public var failedTenants: Int { tenants.filter(\.failed).count }
}
