import SendplanDiagnostics
import SendplanEngine
import SendplanEvidence
import SendplanModel

/// Templates for the reports: the built-in ones, or an operator's folder (`--templates`).
package struct ReportTemplates: Sendable {
  /// report.html.mustache, compiled once.
  let program: MustacheProgram
  /// The text of report.xsd that goes with the templates.
  package let schema: String
  /// The text of report-v1.xsd, for checking reports written before format version 2.
  package let legacySchema: String?

  /// The built-in files by name, for merging with an operator's folder.
  package static var defaultFiles: [String: String] { EmbeddedTemplates.files }

  /// `files` maps file names (`report.html.mustache`, `report.xsd`) to their text.
  package init(files: [String: String], origin: String) throws(SendplanError) {
    guard let html = files["report.html.mustache"] else {
      throw SendplanError(
        .missing, code: "template_missing", path: origin, message: "report.html.mustache is missing",
        fix: "copy templates/report.html.mustache into the templates folder")
    }
    guard let xsd = files["report.xsd"] else {
      throw SendplanError(
        .missing, code: "template_missing", path: origin, message: "report.xsd is missing",
        fix: "copy templates/report.xsd into the templates folder")
    }
    do {
      // Every template, the operator's too, renders with byte-level escaping (XMLEscape).
      program = try MustacheProgram(html)
    } catch {
      throw SendplanError(
        .badData, code: "template_invalid", path: origin + "/report.html.mustache", line: error.line,
        message: "the template does not compile: \(error.message)",
        fix: "use only the Mustache tags listed in docs/reports.md (variables, sections, inverted sections, comments)")
    }
    schema = xsd
    legacySchema = files["report-v1.xsd"]
  }
}

/// Builds `report.html` from the plan through the compiled Mustache template (`MustacheProgram`), which escapes every value.
package enum HTMLReport {
  /// At most this many items of one enrollment are listed; report.xml always has all of them.
  package static let itemsPerEnrollment = 50
  /// At most this many items are listed in one report.
  package static let itemsPerReport = 1000
  /// The status chart shows at most this many enrollments (the largest).
  package static let chartEnrollments = 40

  static let fixes: [String: String] = [
    "sequence_not_active": "Activate the sequence, or move the enrollment to an active sequence.",
    "identity_missing": "Set identity_id on the enrollment or on its sequence.",
    "identity_not_found": "Add the sender identity to identities, or correct the identity id.",
    "identity_not_verified": "Verify the sender identity.",
    "invalid_step": "Give every step of the sequence a distinct step_order.",
    "template_not_found": "Add the template, or correct the step's template_id.",
    "template_not_active": "Activate the template, or point the step at an active one.",
  ]

  static let colors = [
    "WouldSend": "#1b7f3b", "Skipped": "#c98a00", "FailedValidation": "#b42318", "Paused": "#3a5ccc",
  ]
  static let labels = [
    "WouldSend": "Would send", "Skipped": "Skipped", "FailedValidation": "Failed validation", "Paused": "Paused",
  ]
  static let order = ["WouldSend", "Skipped", "FailedValidation", "Paused"]

  static func header(customerID: ID, asOf: Timestamp, context: ReportContext) -> MFields {
    var d: MFields = [
      "customerId": .string(customerID.string),
      "runId": .string(context.runID),
      "asOf": .string(asOf.rfc3339),
      "tool": .string("sendplan " + context.toolVersion),
      "inputs": .list(
        context.inputs.map {
          [
            "file": .string($0.file), "sha256": .string($0.sha256), "rows": .int(Int($0.rows)),
            "bytes": .int(Int($0.bytes)),
          ]
        }),
    ]
    if let a = context.audit {
      d["audit"] = [
        "chainHead": .string(a.chainHead), "merkleRoot": .string(a.merkleRoot), "segment": .int(Int(a.segment)),
        "treeSize": .int(Int(a.treeSize)),
        "signedText": .string(a.signed ? "checkpoint signed" : "checkpoint unsigned"),
      ]
    }
    return d
  }

  /// The report of a planned tenant. `tally` is the plan's, when the caller has it already.
  package static func render(
    _ plan: TenantPlan, context: ReportContext, templates: ReportTemplates, tally: SuppressionTally? = nil
  ) -> [UInt8] {
    var d = header(customerID: plan.customerID, asOf: plan.asOf, context: context)
    var planned = MFields()
    planned["statuses"] = .list(
      order.map {
        ["name": .string($0), "label": .string(labels[$0] ?? $0), "count": .int(plan.counts.count(status: $0))]
      })
    planned["items"] = .int(plan.counts.items)
    planned["enrollmentsPlanned"] = .int(plan.enrollments.count)
    planned["enrollmentsNotPlanned"] = .int(plan.notPlanned.values.reduce(0, +))
    planned["orphanCount"] = .int(plan.orphans.count)
    var reasons: [MValue] = []
    for (status, table) in [
      ("Skipped", plan.counts.skippedByReason), ("FailedValidation", plan.counts.failedByReason),
      ("Paused", plan.counts.pausedByReason),
    ] {
      for (code, count) in table.sorted(by: { $0.key < $1.key }) where count > 0 {
        reasons.append(["status": .string(status), "code": .string(code), "count": .int(count)])
      }
    }
    planned["reasons"] = .list(reasons)
    let notPlanned = plan.notPlanned.sorted { $0.key < $1.key }.filter { $0.value > 0 }
    planned["notPlanned"] = .list(notPlanned.map { ["status": .string($0.key), "count": .int($0.value)] })
    planned["hasNotPlanned"] = .bool(!notPlanned.isEmpty)

    var failures: [MValue] = []
    var paused: [MValue] = []
    var rows: [MValue] = []
    var listed = 0
    var unlisted = 0
    var perEnrollment: [(anchor: String, id: String, counts: StatusCounts)] = []
    for (k, e) in plan.enrollments.enumerated() {
      let anchor = MValue.string("enrollment-\(k + 1)")
      let enrollmentID = MValue.string(e.enrollmentID.string)
      var counts = StatusCounts()
      var groups: [String: Int] = [:]
      var groupEvidence: [String: Evidence] = [:]
      var groupOrder: [String] = []
      var pauseReason: String?
      for item in e.items {
        counts.add(item.status)
        switch item.status {
        case .failedValidation(let r):
          let key = "\(e.steps[Int(item.step)].order)\u{0}\(r.rawValue)"
          if groups[key] == nil {
            groupOrder.append(key)
            if let ev = e.evidence(for: item) { groupEvidence[key] = ev }
          }
          groups[key, default: 0] += 1
        case .paused(let r): pauseReason = pauseReason ?? r.rawValue
        default: break
        }
      }
      for key in groupOrder {
        let parts = key.split(separator: "\u{0}", omittingEmptySubsequences: false)
        let reason = String(parts[1])
        let why = groupEvidence[key].map { describe($0, plan, e) } ?? ""
        failures.append([
          "anchor": anchor, "enrollmentId": enrollmentID, "step": .string(String(parts[0])),
          "reason": .string(reason), "count": .int(groups[key] ?? 0), "fix": .string(fixes[reason] ?? ""),
          "evidence": .string(why), "hasEvidence": .bool(!why.isEmpty),
        ])
      }
      if let pauseReason {
        let why = e.pauseEvidence.map { describe($0, plan, e) } ?? ""
        paused.append([
          "anchor": anchor, "enrollmentId": enrollmentID, "reason": .string(pauseReason),
          "count": .int(counts.paused), "evidence": .string(why), "hasEvidence": .bool(!why.isEmpty),
        ])
      }
      let budget = max(0, min(itemsPerEnrollment, itemsPerReport - listed))
      // A recipient's evidence is the same at every step: describe it once.
      var recipientWhy: [Int32: String] = [:]
      let shown = listedItems(e, budget: budget).map { item -> MValue in
        let r = e.recipients[Int(item.recipient)]
        let step = e.steps[Int(item.step)]
        let why: String
        switch item.status {
        case .skipped, .wouldSend:
          if let known = recipientWhy[item.recipient] {
            why = known
          } else {
            why = e.evidence(ofRecipient: item.recipient).map { describe($0, plan, e) } ?? ""
            recipientWhy[item.recipient] = why
          }
        case .failedValidation, .paused:
          why = e.evidence(for: item).map { describe($0, plan, e) } ?? ""
        }
        // Every key is always present, so no lookup falls through to an enclosing context.
        return [
          "recipientId": .string(r.id.string), "email": .string(r.email.string), "step": .string(String(step.order)),
          "status": .string(item.status.name), "reason": .string(item.status.reason ?? ""),
          "hasReason": .bool(item.status.reason != nil), "templateId": .string(step.templateID.map { $0.string } ?? ""),
          "hasTemplate": .bool(step.templateID != nil), "evidence": .string(why), "hasEvidence": .bool(!why.isEmpty),
        ]
      }
      listed += shown.count
      if shown.isEmpty && !e.items.isEmpty { unlisted += 1 }
      rows.append([
        "anchor": anchor, "enrollmentId": enrollmentID, "status": .string(e.status.rawValue),
        "errors": .list(e.errors.map { .string($0.rawValue) }), "wouldSend": .int(counts.wouldSend),
        "skipped": .int(counts.skipped), "failed": .int(counts.failed), "pausedCount": .int(counts.paused),
        "items": .list(shown), "hasItems": .bool(!shown.isEmpty),
        "identityId": .string(e.identityID.map { $0.string } ?? ""), "hasIdentity": .bool(e.identityID != nil),
        "omitted": .int(e.items.count - shown.count), "hasOmitted": .bool(e.items.count > shown.count),
      ])
      perEnrollment.append(("enrollment-\(k + 1)", e.enrollmentID.string, counts))
    }
    planned["failures"] = .list(failures)
    planned["hasFailures"] = .bool(!failures.isEmpty)
    planned["paused"] = .list(paused)
    planned["hasPaused"] = .bool(!paused.isEmpty)
    planned["enrollments"] = .list(rows)
    planned["unlisted"] = .int(unlisted)
    planned["hasUnlisted"] = .bool(unlisted > 0)
    planned["itemsPerReport"] = .int(itemsPerReport)
    planned["itemsPerEnrollment"] = .int(itemsPerEnrollment)
    let (rules, moreRules) = suppressionRules(plan, tally: tally)
    planned["rules"] = .list(rules)
    planned["hasRules"] = .bool(!rules.isEmpty)
    planned["moreRules"] = .int(moreRules)
    planned["hasMoreRules"] = .bool(moreRules > 0)
    var orphans: [MValue] = []
    for r in plan.orphans.recipients {
      orphans.append([
        "kind": "recipient", "line": .int(Int(RowLine.line(r.line))),
        "ref": .string("enrollment " + r.enrollmentID.string),
        "row": .string("recipient " + r.id.string),
      ])
    }
    for s in plan.orphans.steps {
      orphans.append([
        "kind": "step", "line": .int(Int(RowLine.line(s.line))), "ref": .string("sequence " + s.sequenceID.string),
        "row": .string("step \(s.order)"),
      ])
    }
    planned["orphans"] = .list(orphans)
    planned["hasOrphans"] = .bool(!orphans.isEmpty)
    if let chart = statusChart(perEnrollment) { planned["chartStatus"] = chart }
    if let chart = skipChart(plan.counts.skippedByReason) { planned["chartSkips"] = chart }
    d["planned"] = .object(planned)
    return render(d, templates)
  }

  /// The short report of a tenant that failed with row errors.
  package static func renderFailed(
    _ failure: TenantFailure, asOf: Timestamp, context: ReportContext, templates: ReportTemplates
  ) -> [UInt8] {
    var d = header(customerID: failure.customerID, asOf: asOf, context: context)
    d["failed"] = [
      "errors": .list(
        failure.issues.map {
          [
            "file": .string($0.file), "line": .int(Int($0.line)), "code": .string($0.code),
            "message": .string($0.message), "fix": .string($0.fix),
          ]
        })
    ]
    return render(d, templates)
  }

  /// At most `budget` items of `e` for the item detail, in plan order: the items a reviewer has to
  /// explain (not WouldSend) first, then WouldSend items if there is room.
  package static func listedItems(_ e: EnrollmentPlan, budget: Int) -> [PlannedItem] {
    guard e.items.count > budget else { return e.items }
    var chosen: [Int] = []
    chosen.reserveCapacity(budget)
    for (k, item) in e.items.enumerated() where chosen.count < budget {
      if case .wouldSend = item.status { continue }
      chosen.append(k)
    }
    if chosen.count < budget {
      for (k, item) in e.items.enumerated() where chosen.count < budget {
        if case .wouldSend = item.status { chosen.append(k) }
      }
      chosen.sort()
    }
    return chosen.map { e.items[$0] }
  }

  /// The evidence as the sentence `sendplan explain` prints for it.
  static func describe(_ ev: Evidence, _ plan: TenantPlan, _ e: EnrollmentPlan) -> String {
    EvidenceText.describe(EvidenceJSON.value(ev, plan: plan, enrollment: e, addresses: true))
  }

  /// The tenant's suppression rules by items decided (at most ``itemsPerReport``), and how many more there are.
  static func suppressionRules(_ plan: TenantPlan, tally: SuppressionTally?) -> (rows: [MValue], more: Int) {
    guard !plan.suppressions.isEmpty else { return ([], 0) }
    let tally = tally ?? SuppressionTally(plan)
    let ranked = tally.ranked()
    let rows = ranked.prefix(itemsPerReport).map { k -> MValue in
      let s = plan.suppressions[k]
      let t = tally.rules[k]
      let l = plan.location(RowRef(.suppressions, s.line))
      let state = t.inForce ? "in force" : "expired"
      return [
        "type": .string(s.type.rawValue), "value": .string(s.value), "reason": .string(s.reason ?? ""),
        "since": .string(s.createdAt?.rfc3339 ?? ""), "until": .string(s.expiresAt?.rfc3339 ?? "no expiry"),
        "state": .string(state), "decided": .int(t.decided), "lapsed": .int(t.lapsed),
        "source": .string("\(l.file):\(l.line)"),
      ]
    }
    return (rows, ranked.count - rows.count)
  }

  static func render(_ d: MFields, _ templates: ReportTemplates) -> [UInt8] {
    templates.program.render(.object(d))
  }

  static func statusChart(_ rows: [(anchor: String, id: String, counts: StatusCounts)]) -> MValue? {
    guard !rows.isEmpty else { return nil }
    let top = rows.enumerated().sorted {
      let a = $0.element.counts.total
      let b = $1.element.counts.total
      return a != b ? a > b : $0.offset < $1.offset
    }.prefix(chartEnrollments).sorted { $0.offset < $1.offset }.map(\.element)
    let maxTotal = max(1, top.map { $0.counts.total }.max() ?? 1)
    let labelWidth = 170
    let barWidth = 480
    var bars: [MValue] = []
    for (i, r) in top.enumerated() {
      let y = 4 + i * 20
      var x = Double(labelWidth)
      var segs: [MValue] = []
      let total = r.counts.total
      for s in order {
        let n = r.counts[s]
        guard n > 0 else { continue }
        let w = Double(barWidth) * Double(n) / Double(maxTotal)
        segs.append([
          "x": .string(fmt(x)), "y": .int(y), "w": .string(fmt(w)), "fill": .string(colors[s] ?? "#888"),
          "title": .string("\(labels[s] ?? s): \(n)"),
        ])
        x += w
      }
      var label = r.id
      if label.count > 24 { label = String(label.prefix(23)) + "…" }
      bars.append([
        "label": .string(label), "ty": .int(y + 11), "tx": .string(fmt(x + 6)), "segs": .list(segs),
        "total": .int(total),
      ])
    }
    return [
      "width": .int(labelWidth + barWidth + 60), "height": .int(8 + top.count * 20), "bars": .list(bars),
      "more": .bool(rows.count > top.count), "shown": .int(top.count), "total": .int(rows.count),
      "legend": .list(order.map { ["name": .string(labels[$0] ?? $0), "fill": .string(colors[$0] ?? "#888")] }),
    ]
  }

  static func skipChart(_ reasons: [String: Int]) -> MValue? {
    let rows = reasons.filter { $0.value > 0 }.sorted { $0.key < $1.key }
    guard !rows.isEmpty else { return nil }
    let maxCount = max(1, rows.map(\.value).max() ?? 1)
    var bars: [MValue] = []
    for (i, r) in rows.enumerated() {
      let y = 4 + i * 20
      let w = 480.0 * Double(r.value) / Double(maxCount)
      bars.append([
        "label": .string(r.key), "ty": .int(y + 11), "x": 170, "y": .int(y), "w": .string(fmt(w)),
        "tx": .string(fmt(176 + w)), "count": .int(r.value),
      ])
    }
    return ["width": 710, "height": .int(8 + rows.count * 20), "bars": .list(bars)]
  }

  static func fmt(_ d: Double) -> String {
    let r = (d * 10).rounded() / 10
    return r == r.rounded() ? String(Int(r)) : String(r)
  }
}

/// Items of one enrollment by status, counted without hashing a status name per item.
struct StatusCounts {
  var wouldSend = 0
  var skipped = 0
  var failed = 0
  var paused = 0

  mutating func add(_ status: ItemStatus) {
    switch status {
    case .wouldSend: wouldSend += 1
    case .skipped: skipped += 1
    case .failedValidation: failed += 1
    case .paused: paused += 1
    }
  }

  /// By status name, as in `HTMLReport.order`.
  subscript(name: String) -> Int {
    switch name {
    case "WouldSend": wouldSend
    case "Skipped": skipped
    case "FailedValidation": failed
    case "Paused": paused
    default: 0
    }
  }

  var total: Int { wouldSend + skipped + failed + paused }
}
