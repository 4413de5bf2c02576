import SendplanAudit
import SendplanDiagnostics
import SendplanDryRun
import SendplanEngine
import SendplanFileSystem
import SendplanJSON
import SendplanModel
import SendplanReport

/// An error with the stage it happened in, so the observer can say which writer failed.
struct StagedError: Error {
  var stage: RunStage
  var error: SendplanError
}

/// Plans one tenant and sends it to each writer in turn: dry runs and queue (or errors.json),
/// its audit stream, its reports. The writers do not know of one another.
struct TenantWriters: Sendable {
  let asOf: Timestamp
  let runID: String
  let audit: AuditWriter?
  let reporter: Reporter?
  let context: ReportContext
  let signed: Bool
  let clock: @Sendable () -> Double

  func write(_ tenant: TenantInput, folder: String, files: FolderWriter, refused: [RowIssue]?)
    throws(StagedError) -> TenantOutcome
  {
    let began = clock()
    var outcome: TenantOutcome
    do throws(SendplanError) {
      try FS.makeDirectory(files.dir)
      outcome = try planAndWrite(tenant, folder: folder, files: files, refused: refused)
    } catch {
      throw StagedError(stage: .plan, error: error)
    }
    outcome.seconds = clock() - began
    var ctx = context
    if let audit, let plan = outcome.plan {
      let auditStart = clock()
      do throws(SendplanError) {
        if let s = try audit.append(plan) {
          outcome.audit = s
          outcome.auditSeconds = clock() - auditStart
          ctx.audit = AuditSeal(
            segment: s.segment, treeSize: s.treeSize, chainHead: s.chainHead, merkleRoot: s.merkleRoot, signed: signed)
        }
      } catch {
        throw StagedError(stage: .appendAudit, error: error)
      }
    }
    if let reporter {
      do throws(SendplanError) {
        try reporter.write(plan: outcome.plan, failure: outcome.failure, asOf: asOf, context: ctx, files: files)
      } catch {
        throw StagedError(stage: .writeReports, error: error)
      }
    }
    return outcome
  }

  /// The planner's verdict, written as `dry-runs.jsonl` and `queue.json`, or as `errors.json`.
  func planAndWrite(_ tenant: TenantInput, folder: String, files: FolderWriter, refused: [RowIssue]?)
    throws(SendplanError) -> TenantOutcome
  {
    let result =
      refused.map {
        Result<TenantPlan, TenantFailure>.failure(TenantFailure(customerID: tenant.customerID, issues: $0))
      }
      ?? Planner.plan(tenant, asOf: asOf)
    switch result {
    case .failure(let failure):
      let doc = JSONValue.object([
        "customerId": .string(tenant.customerID.string),
        "status": .string("failed"),
        "errors": Manifest.issues(failure.issues),
      ])
      try files.write("errors.json", doc.render())
      return TenantOutcome(customerID: tenant.customerID, folder: folder, plan: nil, failure: failure)
    case .success(let plan):
      try TenantWriter.write(plan, runID: runID, to: files)
      return TenantOutcome(customerID: tenant.customerID, folder: folder, plan: plan, failure: nil)
    }
  }
}
