import SendplanAudit
import SendplanDiagnostics
import SendplanDryRun
import SendplanEngine
import SendplanJSON
import SendplanModel

/// The outcome of planning one enrollment on demand.
package enum EnrollmentRun: Sendable {
  /// Planned and sealed in the tenant's audit stream as its own run.
  case planned(EnrollmentDryRun)
  /// The tenant's rows have errors, so none of its enrollments can be planned; the codes, sorted.
  case tenantInvalid(codes: [String])
  /// The enrollment exists but its status (completed, cancelled) is not planned.
  case notPlannable(status: String)
  /// No such enrollment in the tenant.
  case notFound
}

/// One enrollment's dry run, rendered in the contract's shapes.
package struct EnrollmentDryRun: Sendable {
  package var plan: EnrollmentPlan
  /// The dry-run response line (`{"data":{…}}` and a newline).
  package var dryRun: [UInt8]
  /// The queue summary of the enrollment, as in `queue.json`.
  package var queueSummary: JSONValue
}

extension RunPipeline {
  /// Plans one enrollment of `tenant` as of `options.asOf`, and appends and seals its events as run
  /// `options.runID` in the tenant's audit stream, through the same stages as a whole run.
  package func planEnrollment(_ enrollmentID: ID, of tenant: TenantInput) throws(SendplanError) -> EnrollmentRun {
    guard let row = tenant.enrollments.first(where: { $0.id == enrollmentID }) else { return .notFound }
    let plan: TenantPlan
    switch Planner.plan(tenant, asOf: options.asOf) {
    case .failure(let f): return .tenantInvalid(codes: Array(Set(f.issues.map(\.code))).sorted())
    case .success(let p): plan = p
    }
    guard let e = plan.enrollments.first(where: { $0.enrollmentID == enrollmentID }) else {
      return .notPlannable(status: row.status.rawValue)
    }
    let single = TenantPlan(
      customerID: tenant.customerID, asOf: options.asOf, enrollments: [e], notPlanned: [:], orphans: Orphans(),
      counts: PlanCounts.of(e.items), suppressions: plan.suppressions, fileNames: plan.fileNames)
    if let audit = try stage(.openAudit, { () throws(SendplanError) in try openAudit() }) {
      try stage(.appendAudit) { () throws(SendplanError) in
        if case .refused(let error) = audit.prepare([tenant.customerID]).first { throw error }
        _ = try audit.append(single)
      }
      _ = try stage(.seal) { () throws(SendplanError) in try audit.commit(alreadySealed: 0) }
    }
    let plannedAt = options.asOf.rfc3339
    var summary = JSONBytes()
    TenantWriter.appendQueueSummary(e, plannedAt: plannedAt, runID: options.runID, to: &summary)
    var line = JSONBytes()
    TenantWriter.appendDryRun(e, plannedAt: plannedAt, to: &line)
    let parsed = (try? JSONParse.parse(summary.bytes)) ?? .object([:])
    return .planned(EnrollmentDryRun(plan: e, dryRun: line.bytes, queueSummary: parsed))
  }
}
