import SendplanEngine

/// The metrics file's content.
enum RunMetrics {
  static func render(
    _ s: RunStats.Snapshot, status: Int32, seconds: Double, endedAt: Double, lastSuccess: Double?
  ) -> [UInt8] {
    typealias S = MetricFamily.Sample
    var f: [MetricFamily] = [
      MetricFamily(
        name: "sendplan_run_exit_status", help: "Exit status of the last run (0 success; see the runbook).",
        samples: [S([:], Double(status))]),
      MetricFamily(
        name: "sendplan_run_duration_seconds", help: "Wall time of the last run.", samples: [S([:], seconds)]),
      MetricFamily(
        name: "sendplan_run_end_timestamp_seconds", help: "When the last run ended (Unix time).",
        samples: [S([:], endedAt)]),
    ]
    if let lastSuccess {
      f.append(
        MetricFamily(
          name: "sendplan_last_success_timestamp_seconds",
          help: "When a run last ended with exit status 0 (Unix time).",
          samples: [S([:], lastSuccess)]))
    }
    f.append(
      MetricFamily(
        name: "sendplan_tenants", help: "Tenants of the last run by outcome.",
        samples: [S(["state": "planned"], Double(s.planned)), S(["state": "failed"], Double(s.failed))]))
    f.append(
      MetricFamily(
        name: "sendplan_failed_tenants", help: "Tenants that failed with row errors in the last run.",
        samples: [S([:], Double(s.failed))]))
    f.append(
      MetricFamily(
        name: "sendplan_dry_runs", help: "Enrollment dry runs planned in the last run, per tenant.",
        samples: s.tenants.map { S(["customer_id": $0.customerID], Double($0.dryRuns)) }))
    f.append(
      MetricFamily(
        name: "sendplan_items", help: "Planned items of the last run by status.",
        samples: s.totals.byStatus.map { S(["status": $0.key], Double($0.value)) }))
    f.append(
      MetricFamily(
        name: "sendplan_skipped_items", help: "Skipped items of the last run by reason.",
        samples: s.totals.skippedByReason.map { S(["reason": $0.key], Double($0.value)) }))
    f.append(
      MetricFamily(
        name: "sendplan_failed_validation_items", help: "FailedValidation items of the last run by reason.",
        samples: s.totals.failedByReason.map { S(["reason": $0.key], Double($0.value)) }))
    f.append(
      MetricFamily(
        name: "sendplan_paused_items", help: "Paused items of the last run by reason.",
        samples: s.totals.pausedByReason.map { S(["reason": $0.key], Double($0.value)) }))
    let audited = s.tenants.filter { $0.auditEvents != nil }
    if !audited.isEmpty {
      f.append(
        MetricFamily(
          name: "sendplan_audit_entries_appended", help: "Audit entries appended by the last run, per tenant.",
          samples: audited.map { S(["customer_id": $0.customerID], Double($0.auditEvents ?? 0)) }))
      f.append(
        MetricFamily(
          name: "sendplan_audit_stream_bytes", help: "Size of each tenant's audit stream after the last run.",
          samples: audited.compactMap { t in t.auditBytes.map { S(["customer_id": t.customerID], Double($0)) } }))
    }
    return PrometheusText.render(f)
  }

  /// The last-success time recorded in a previous metrics file, so a failed run does not erase it.
  static func previousLastSuccess(_ text: String) -> Double? {
    for line in text.split(separator: "\n") where line.hasPrefix("sendplan_last_success_timestamp_seconds ") {
      return Double(line.split(separator: " ").last ?? "")
    }
    return nil
  }
}
