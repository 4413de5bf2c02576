import Mustache
import SendplanDiagnostics
import SendplanEngine
import SendplanModel

/// Templates for the reports: the built-in ones, or an operator's folder (`--templates`).
package struct ReportTemplates: Sendable {
  let library: MustacheLibrary
  /// The text of report.xsd that goes with the templates.
  package let schema: String

  package static let htmlTemplate = "report.html"

  /// The built-in files by name, for merging with an operator's folder.
  package static var defaultFiles: [String: String] { EmbeddedTemplates.files }

  /// `files` maps file names (`report.html.mustache`, `report.xsd`) to their text.
  package init(files: [String: String], origin: String) throws(SendplanError) {
    XHTMLEscaping.install()
    var lib = MustacheLibrary()
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
      // Every template, the operator's too, renders with byte-level escaping (see XHTMLEscaping).
      try lib.register("{{% CONTENT_TYPE: XHTML}}" + html, named: Self.htmlTemplate)
    } catch {
      throw SendplanError(
        .badData, code: "template_invalid", path: origin + "/report.html.mustache",
        message: "the template does not parse: \(error)",
        fix: "fix the Mustache syntax")
    }
    library = lib
    schema = xsd
  }
}

/// Builds `report.html` from the plan through the Mustache template, which escapes every value.
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

  static func header(customerID: ID, asOf: Timestamp, context: ReportContext) -> [String: Any] {
    var d: [String: Any] = [
      "customerId": customerID.string,
      "runId": context.runID,
      "asOf": asOf.rfc3339,
      "tool": "sendplan " + context.toolVersion,
      "inputs": context.inputs.map {
        ["file": $0.file, "sha256": $0.sha256, "rows": $0.rows, "bytes": $0.bytes] as [String: Any]
      },
    ]
    if let a = context.audit {
      d["audit"] =
        [
          "chainHead": a.chainHead, "merkleRoot": a.merkleRoot, "segment": a.segment, "treeSize": a.treeSize,
          "signedText": a.signed ? "checkpoint signed" : "checkpoint unsigned",
        ] as [String: Any]
    }
    return d
  }

  /// The report of a planned tenant.
  package static func render(_ plan: TenantPlan, context: ReportContext, templates: ReportTemplates) -> [UInt8] {
    var d = header(customerID: plan.customerID, asOf: plan.asOf, context: context)
    var planned: [String: Any] = [:]
    planned["statuses"] = order.map {
      ["name": $0, "label": labels[$0] ?? $0, "count": plan.counts.count(status: $0)] as [String: Any]
    }
    planned["items"] = plan.counts.items
    planned["enrollmentsPlanned"] = plan.enrollments.count
    planned["enrollmentsNotPlanned"] = plan.notPlanned.values.reduce(0, +)
    planned["orphanCount"] = plan.orphans.count
    var reasons: [[String: Any]] = []
    for (status, table) in [
      ("Skipped", plan.counts.skippedByReason), ("FailedValidation", plan.counts.failedByReason),
      ("Paused", plan.counts.pausedByReason),
    ] {
      for (code, count) in table.sorted(by: { $0.key < $1.key }) where count > 0 {
        reasons.append(["status": status, "code": code, "count": count])
      }
    }
    planned["reasons"] = reasons
    let notPlanned = plan.notPlanned.sorted { $0.key < $1.key }.filter { $0.value > 0 }
    planned["notPlanned"] = notPlanned.map { ["status": $0.key, "count": $0.value] as [String: Any] }
    planned["hasNotPlanned"] = !notPlanned.isEmpty

    var failures: [[String: Any]] = []
    var paused: [[String: Any]] = []
    var rows: [[String: Any]] = []
    var listed = 0
    var perEnrollment: [(anchor: String, id: String, counts: [String: Int])] = []
    for (k, e) in plan.enrollments.enumerated() {
      let anchor = "enrollment-\(k + 1)"
      var counts: [String: Int] = [:]
      var groups: [String: Int] = [:]
      var groupOrder: [String] = []
      var pauseReason: String?
      for item in e.items {
        counts[item.status.name, default: 0] += 1
        switch item.status {
        case .failedValidation(let r):
          let key = "\(e.steps[Int(item.step)].order)\u{0}\(r.rawValue)"
          if groups[key] == nil { groupOrder.append(key) }
          groups[key, default: 0] += 1
        case .paused(let r): pauseReason = pauseReason ?? r.rawValue
        default: break
        }
      }
      for key in groupOrder {
        let parts = key.split(separator: "\u{0}", omittingEmptySubsequences: false)
        let reason = String(parts[1])
        failures.append([
          "anchor": anchor, "enrollmentId": e.enrollmentID.string, "step": String(parts[0]), "reason": reason,
          "count": groups[key] ?? 0, "fix": fixes[reason] ?? "",
        ])
      }
      if let pauseReason {
        paused.append([
          "anchor": anchor, "enrollmentId": e.enrollmentID.string, "reason": pauseReason,
          "count": counts["Paused"] ?? 0,
        ])
      }
      let budget = max(0, min(itemsPerEnrollment, itemsPerReport - listed))
      let shown = e.items.prefix(budget).map { item -> [String: Any] in
        let r = e.recipients[Int(item.recipient)]
        let step = e.steps[Int(item.step)]
        // Every key is always present: a missing one makes Mustache search every enclosing context.
        return [
          "recipientId": r.id.string, "email": r.email, "step": String(step.order), "status": item.status.name,
          "reason": item.status.reason ?? "", "hasReason": item.status.reason != nil,
          "templateId": step.templateID.map { $0.string } ?? "", "hasTemplate": step.templateID != nil,
        ] as [String: Any]
      }
      listed += shown.count
      var row: [String: Any] = [
        "anchor": anchor, "enrollmentId": e.enrollmentID.string, "status": e.status.rawValue,
        "errors": e.errors.map(\.rawValue), "wouldSend": counts["WouldSend"] ?? 0, "skipped": counts["Skipped"] ?? 0,
        "failed": counts["FailedValidation"] ?? 0, "pausedCount": counts["Paused"] ?? 0, "items": shown,
        "hasItems": !shown.isEmpty,
      ]
      row["identityId"] = e.identityID.map { $0.string } ?? ""
      row["hasIdentity"] = e.identityID != nil
      row["omitted"] = e.items.count - shown.count
      row["hasOmitted"] = e.items.count > shown.count
      rows.append(row)
      perEnrollment.append((anchor, e.enrollmentID.string, counts))
    }
    planned["failures"] = failures
    planned["hasFailures"] = !failures.isEmpty
    planned["paused"] = paused
    planned["hasPaused"] = !paused.isEmpty
    planned["enrollments"] = rows
    var orphans: [[String: Any]] = []
    for r in plan.orphans.recipients {
      orphans.append([
        "kind": "recipient", "line": RowLine.line(r.line), "ref": "enrollment " + r.enrollmentID.string,
        "row": "recipient " + r.id.string,
      ])
    }
    for s in plan.orphans.steps {
      orphans.append([
        "kind": "step", "line": RowLine.line(s.line), "ref": "sequence " + s.sequenceID.string,
        "row": "step \(s.order)",
      ])
    }
    planned["orphans"] = orphans
    planned["hasOrphans"] = !orphans.isEmpty
    if let chart = statusChart(perEnrollment) { planned["chartStatus"] = chart }
    if let chart = skipChart(plan.counts.skippedByReason) { planned["chartSkips"] = chart }
    d["planned"] = planned
    return render(d, templates)
  }

  /// The short report of a tenant that failed with row errors.
  package static func renderFailed(
    _ failure: TenantFailure, asOf: Timestamp, context: ReportContext, templates: ReportTemplates
  ) -> [UInt8] {
    var d = header(customerID: failure.customerID, asOf: asOf, context: context)
    d["failed"] = [
      "errors": failure.issues.map {
        [
          "file": $0.file, "line": $0.line, "code": $0.code, "message": $0.message, "fix": $0.fix,
        ] as [String: Any]
      }
    ]
    return render(d, templates)
  }

  static func render(_ d: [String: Any], _ templates: ReportTemplates) -> [UInt8] {
    Array((templates.library.render(ViewNode.wrap(d), withTemplate: ReportTemplates.htmlTemplate) ?? "").utf8)
  }

  static func statusChart(_ rows: [(anchor: String, id: String, counts: [String: Int])]) -> [String: Any]? {
    guard !rows.isEmpty else { return nil }
    let top = rows.enumerated().sorted {
      let a = $0.element.counts.values.reduce(0, +)
      let b = $1.element.counts.values.reduce(0, +)
      return a != b ? a > b : $0.offset < $1.offset
    }.prefix(chartEnrollments).sorted { $0.offset < $1.offset }.map(\.element)
    let maxTotal = max(1, top.map { $0.counts.values.reduce(0, +) }.max() ?? 1)
    let labelWidth = 170
    let barWidth = 480
    var bars: [[String: Any]] = []
    for (i, r) in top.enumerated() {
      let y = 4 + i * 20
      var x = Double(labelWidth)
      var segs: [[String: Any]] = []
      let total = r.counts.values.reduce(0, +)
      for s in order {
        let n = r.counts[s] ?? 0
        guard n > 0 else { continue }
        let w = Double(barWidth) * Double(n) / Double(maxTotal)
        segs.append([
          "x": fmt(x), "y": y, "w": fmt(w), "fill": colors[s] ?? "#888", "title": "\(labels[s] ?? s): \(n)",
        ])
        x += w
      }
      var label = r.id
      if label.count > 24 { label = String(label.prefix(23)) + "…" }
      bars.append(["label": label, "ty": y + 11, "tx": fmt(x + 6), "segs": segs, "total": total])
    }
    return [
      "width": labelWidth + barWidth + 60, "height": 8 + top.count * 20, "bars": bars, "more": rows.count > top.count,
      "shown": top.count, "total": rows.count,
      "legend": order.map { ["name": labels[$0] ?? $0, "fill": colors[$0] ?? "#888"] },
    ]
  }

  static func skipChart(_ reasons: [String: Int]) -> [String: Any]? {
    let rows = reasons.filter { $0.value > 0 }.sorted { $0.key < $1.key }
    guard !rows.isEmpty else { return nil }
    let maxCount = max(1, rows.map(\.value).max() ?? 1)
    var bars: [[String: Any]] = []
    for (i, r) in rows.enumerated() {
      let y = 4 + i * 20
      let w = 480.0 * Double(r.value) / Double(maxCount)
      bars.append(["label": r.key, "ty": y + 11, "x": 170, "y": y, "w": fmt(w), "tx": fmt(176 + w), "count": r.value])
    }
    return ["width": 710, "height": 8 + rows.count * 20, "bars": bars]
  }

  static func fmt(_ d: Double) -> String {
    let r = (d * 10).rounded() / 10
    return r == r.rounded() ? String(Int(r)) : String(r)
  }
}

/// Mustache's own HTML escaping walks Characters, so a quote followed by a combining mark (one
/// grapheme) would slip through unescaped. Every template, including an operator's, gets byte-level
/// escaping instead: `&<>"'` as entities, tab/LF/CR as character references, and forbidden
/// characters replaced visibly.
struct XHTMLEscaping: MustacheContentType {
  func escapeText(_ text: String) -> String {
    var out: [UInt8] = []
    out.reserveCapacity(text.utf8.count + 16)
    XMLEscape.attribute(text, into: &out)
    return String(decoding: out, as: UTF8.self)
  }

  /// Registers the "XHTML" content type; idempotent.
  static func install() {
    MustacheContentTypes.register(XHTMLEscaping(), named: "XHTML")
  }
}

/// A view-model object for Mustache. A final class is found by Mustache's dynamic casts far
/// faster than a `[String: Any]` dictionary, which dominated rendering time.
final class ViewNode: MustacheParent {
  let values: [String: Any]

  init(_ values: [String: Any]) { self.values = values }

  func child(named name: String) -> Any? { values[name] }

  /// Converts nested dictionaries (and arrays of them) into nodes.
  static func wrap(_ value: Any) -> Any {
    if let d = value as? [String: Any] { return ViewNode(d.mapValues(wrap)) }
    if let a = value as? [[String: Any]] { return a.map { ViewNode($0.mapValues(wrap)) } }
    return value
  }
}
