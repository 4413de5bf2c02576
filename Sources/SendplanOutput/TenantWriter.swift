import SendplanEngine
import SendplanModel

/// Serialises a tenant's plan into the files of its output folder.
public enum TenantWriter {
  /// Appends one dry-run line (§4) for `e`: keys sorted, items in plan order, newline-terminated.
  public static func appendDryRun(_ e: EnrollmentPlan, plannedAt: String, to out: inout JSONBytes) {
    out.raw("{\"data\":{\"enrollmentId\":")
    out.string(e.enrollmentID.string)
    if !e.errors.isEmpty {
      out.raw(",\"errors\":[")
      for (k, err) in e.errors.enumerated() {
        if k > 0 { out.raw(",") }
        out.string(err.rawValue)
      }
      out.raw("]")
    }
    out.raw(",\"items\":[")
    var first = true
    for item in e.items {
      if !first { out.raw(",") }
      first = false
      let r = e.recipients[Int(item.recipient)]
      let step = e.steps[Int(item.step)]
      out.raw("{\"email\":")
      out.string(r.email)
      if let ident = e.identityID {
        out.raw(",\"identityId\":")
        out.string(ident.string)
      }
      if let reason = item.status.reason {
        out.raw(",\"reason\":")
        out.string(reason)
      }
      out.raw(",\"recipientId\":")
      out.string(r.id.string)
      out.raw(",\"status\":")
      switch item.status {
      case .wouldSend: out.raw("\"WouldSend\"")
      case .skipped: out.raw("\"Skipped\"")
      case .failedValidation: out.raw("\"FailedValidation\"")
      case .paused: out.raw("\"Paused\"")
      }
      out.raw(",\"stepOrder\":")
      out.int(step.order)
      if let sr = item.status.suppressionResult {
        out.raw(",\"suppressionResult\":")
        out.string(sr)
      }
      if let t = step.templateID {
        out.raw(",\"templateId\":")
        out.string(t.string)
      }
      out.raw("}")
    }
    out.raw("],\"plannedAt\":")
    out.string(plannedAt)
    out.raw("}}\n")
  }

  /// Writes `dry-runs.jsonl`, streaming in 1 MiB pieces.
  static func writeDryRuns(_ plan: TenantPlan, to path: String, sync: Bool) throws(OutputError) {
    let file = try OutputFile(path: path)
    var buf = JSONBytes(capacity: 1 << 20 + 65_536)
    let plannedAt = plan.asOf.rfc3339
    for e in plan.enrollments {
      appendDryRun(e, plannedAt: plannedAt, to: &buf)
      try file.flushIfNeeded(&buf)
    }
    try file.write(buf.bytes)
    try file.close(sync: sync)
  }

  /// Per-enrollment counts by state, as the queue endpoint returns them.
  public static func queueSummary(_ e: EnrollmentPlan, plannedAt: String, runID: String) -> JSONValue {
    var counts: [String: Int64] = ["Queued": 0, "DryRunPlanned": 0]
    for n in ItemStatus.names { counts[n] = 0 }
    for item in e.items { counts[item.status.name, default: 0] += 1 }
    var o: [String: JSONValue] = [
      "enrollmentId": .string(e.enrollmentID.string),
      "status": .string(e.status.rawValue),
      "counts": .object(counts.mapValues { .int($0) }),
      "itemCount": .int(Int64(e.items.count)),
      "errors": .array(e.errors.map { .string($0.rawValue) }),
      "plannedAt": .string(plannedAt),
      "runId": .string(runID),
    ]
    if let ident = e.identityID { o["identityId"] = .string(ident.string) }
    return .object(o)
  }

  /// `queue.json`: the queue summary of every planned enrollment of the tenant.
  static func queueDocument(_ plan: TenantPlan, runID: String) -> JSONValue {
    let plannedAt = plan.asOf.rfc3339
    return .object([
      "customerId": .string(plan.customerID.string),
      "plannedAt": .string(plannedAt),
      "runId": .string(runID),
      "enrollments": .array(plan.enrollments.map { queueSummary($0, plannedAt: plannedAt, runID: runID) }),
    ])
  }
}
