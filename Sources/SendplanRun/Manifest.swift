import SendplanEngine
import SendplanJSON
import SendplanModel

/// Builds `run.json`, the run manifest.
package enum Manifest {
  /// Format version of `run.json`; bumped only for incompatible changes.
  package static let formatVersion: Int64 = 1

  static func issues(_ list: [RowIssue]) -> JSONValue {
    .array(
      list.map {
        .object([
          "file": .string($0.file), "line": .int(Int64($0.line)), "code": .string($0.code),
          "message": .string($0.message), "fix": .string($0.fix),
        ])
      })
  }

  static func counts(_ c: PlanCounts) -> JSONValue {
    func object(_ m: [String: Int]) -> JSONValue { .object(m.mapValues { .int(Int64($0)) }) }
    return .object([
      "items": .int(Int64(c.items)),
      "byStatus": object(c.byStatus),
      "skippedByReason": object(c.skippedByReason),
      "failedValidationByReason": object(c.failedByReason),
      "pausedByReason": object(c.pausedByReason),
    ])
  }

  static func tenant(_ t: TenantOutcome) -> JSONValue {
    var o: [String: JSONValue] = [
      "customerId": .string(t.customerID.string),
      "folder": .string("tenants/" + t.folder),
    ]
    if let s = t.summary {
      o["status"] = .string("planned")
      o["counts"] = counts(s.counts)
      o["enrollments"] = .object([
        "planned": .int(Int64(s.enrollments)),
        "notPlanned": .object([
          "completed": .int(Int64(s.notPlanned["completed"] ?? 0)),
          "cancelled": .int(Int64(s.notPlanned["cancelled"] ?? 0)),
        ]),
        "errorsByCode": .object(s.errorsByCode.mapValues { .int(Int64($0)) }),
      ])
      o["orphans"] = .object([
        "recipients": .int(Int64(s.orphanRecipients)),
        "steps": .int(Int64(s.orphanSteps)),
      ])
      o["errors"] = .array([])
    } else if let f = t.failure {
      o["status"] = .string("failed")
      o["errors"] = issues(f.issues)
    }
    return .object(o)
  }

  /// The whole manifest. Tenants are in customer-id byte order.
  package static func document(bundle: ExportBundle, outcomes: [TenantOutcome], options: RunOptions) -> JSONValue {
    var totals = PlanCounts()
    for t in outcomes { if let s = t.summary { totals.merge(s.counts) } }
    let failed = outcomes.filter(\.failed).count
    var doc: [String: JSONValue] = [
      "formatVersion": .int(formatVersion),
      "tool": .object(["name": .string(Tool.name), "version": .string(Tool.version)]),
      "runId": .string(options.runID),
      "asOf": .string(options.asOf.rfc3339),
      "status": .string(failed == 0 ? "ok" : "tenants_failed"),
      "inputs": .array(
        bundle.inputs.map {
          .object([
            "name": .string($0.name), "table": .string($0.table.rawValue), "sha256": .string($0.sha256),
            "bytes": .int(Int64($0.bytes)), "rows": .int(Int64($0.rows)),
          ])
        }),
      "ignoredFiles": .array(bundle.ignored.map { .string($0) }),
      "totals": .object([
        "tenants": .int(Int64(outcomes.count)),
        "tenantsPlanned": .int(Int64(outcomes.count - failed)),
        "tenantsFailed": .int(Int64(failed)),
        "counts": counts(totals),
      ]),
      "tenants": .array(outcomes.map(tenant)),
    ]
    if let shard = options.shard {
      doc["shard"] = .object(["index": .int(Int64(shard.index)), "count": .int(Int64(shard.count))])
    }
    return .object(doc)
  }
}
