import SendplanEngine
import SendplanJSON
import SendplanModel

/// One input file as the report lists it (provenance).
package struct ReportInput: Sendable, Equatable {
  package var file: String
  package var sha256: String
  package var bytes: Int
  package var rows: Int

  package init(file: String, sha256: String, bytes: Int, rows: Int) {
    self.file = file
    self.sha256 = sha256
    self.bytes = bytes
    self.rows = rows
  }

  package init(_ f: InputFile) { self.init(file: f.name, sha256: f.sha256, bytes: f.bytes, rows: f.rows) }
}

/// What a report says about the run besides the plan.
package struct ReportContext: Sendable {
  package var runID: String
  package var toolVersion: String
  package var inputs: [ReportInput]
  /// Present once the tenant's audit stream holds this run.
  package var audit: AuditSeal?

  package init(runID: String, toolVersion: String, inputs: [ReportInput], audit: AuditSeal? = nil) {
    self.runID = runID
    self.toolVersion = toolVersion
    self.inputs = inputs
    self.audit = audit
  }
}

/// The tenant's audit stream after this run.
package struct AuditSeal: Sendable {
  package var segment: Int64
  package var treeSize: Int64
  package var chainHead: String
  package var merkleRoot: String
  package var signed: Bool

  package init(segment: Int64, treeSize: Int64, chainHead: String, merkleRoot: String, signed: Bool) {
    self.segment = segment
    self.treeSize = treeSize
    self.chainHead = chainHead
    self.merkleRoot = merkleRoot
    self.signed = signed
  }
}

/// Writes `report.xml`, format version 2 (docs/reports.md): each enrollment lists its recipients once
/// and then, per step, the recipients of each status and reason, by index. Every item is there, in
/// far fewer bytes and elements than one element per item, which is what validation pays for.
package enum XMLReport {
  package static let namespace = "urn:sendplan:report:2"

  /// The whole report in memory (tests, and small reports).
  package static func render(_ plan: TenantPlan, context: ReportContext) -> [UInt8] {
    var o: [UInt8] = []
    write(plan, context: context, into: &o) { (_: inout [UInt8]) in }
    return o
  }

  /// Appends the report to `o`, calling `flush` between enrollments so the caller can write the
  /// buffer out (and empty it) as it grows. `tally` is the plan's, when the caller has it already.
  package static func write<E: Error>(
    _ plan: TenantPlan, context: ReportContext, tally: SuppressionTally? = nil, into o: inout [UInt8],
    flush: (inout [UInt8]) throws(E) -> Void
  ) throws(E) {
    var w = Attributes()
    swap(&w.out, &o)
    defer { swap(&w.out, &o) }
    w.out.reserveCapacity(w.out.count + 4096)
    func raw(_ s: StaticString) { w.raw(s) }
    func attr(_ name: StaticString, _ value: String) { w.attr(name, value) }
    func attr(_ name: StaticString, _ value: Text) { w.attr(name, value) }
    func num(_ name: StaticString, _ value: some BinaryInteger) { w.num(name, Int(value)) }

    raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<report xmlns=\"urn:sendplan:report:2\" formatVersion=\"2\"")
    attr("customerId", plan.customerID.string)
    attr("runId", context.runID)
    attr("asOf", plan.asOf.rfc3339)
    attr("tool", "sendplan " + context.toolVersion)
    raw(">\n<inputs>\n")
    for f in context.inputs {
      raw("<input")
      attr("file", f.file)
      attr("sha256", f.sha256)
      num("bytes", f.bytes)
      num("rows", f.rows)
      raw("/>\n")
    }
    raw("</inputs>\n")
    if let a = context.audit {
      raw("<audit")
      num("segment", a.segment)
      num("treeSize", a.treeSize)
      attr("chainHead", a.chainHead)
      attr("merkleRoot", a.merkleRoot)
      attr("signed", a.signed ? "true" : "false")
      raw("/>\n")
    }
    let tally = tally ?? SuppressionTally(plan)
    let planned = plan.enrollments.count
    let notPlanned = plan.notPlanned.values.reduce(0, +)
    raw("<summary")
    num("items", plan.counts.items)
    num("enrollmentsPlanned", planned)
    num("enrollmentsNotPlanned", notPlanned)
    num("orphans", plan.orphans.count)
    raw(">\n")
    for name in ["WouldSend", "Skipped", "FailedValidation", "Paused"] {
      raw("<status")
      attr("name", name)
      num("count", plan.counts.count(status: name))
      raw("/>\n")
    }
    for (status, table) in [
      ("Skipped", plan.counts.skippedByReason), ("FailedValidation", plan.counts.failedByReason),
      ("Paused", plan.counts.pausedByReason),
    ] {
      for (code, count) in table.sorted(by: { $0.key < $1.key }) where count > 0 {
        raw("<reason")
        attr("status", status)
        attr("code", code)
        num("count", count)
        raw("/>\n")
      }
    }
    for (status, count) in plan.notPlanned.sorted(by: { $0.key < $1.key }) where count > 0 {
      raw("<notPlanned")
      attr("status", status)
      num("count", count)
      raw("/>\n")
    }
    raw("</summary>\n")
    if !plan.suppressions.isEmpty {
      raw("<suppressions>\n")
      for k in tally.order {
        EvidenceXML.writeRule(plan.suppressions[k], tally.rules[k], plan: plan, into: &w.out)
      }
      raw("</suppressions>\n")
    }
    raw("<enrollments>\n")
    // The statuses of one step, in the order they first occur, each with its recipients.
    var groups: [(status: ItemStatus, recipients: [Int32])] = []
    for e in plan.enrollments {
      raw("<enrollment")
      attr("id", e.enrollmentID.string)
      attr("status", e.status.rawValue)
      num("items", e.items.count)
      if let i = e.identityID { attr("identityId", i.string) }
      raw(">\n")
      for (k, err) in e.errors.enumerated() {
        raw("<error")
        attr("code", err.rawValue)
        if k < e.errorEvidence.count, let ev = e.errorEvidence[k] {
          raw(">\n")
          EvidenceXML.write(ev, plan: plan, enrollment: e, rulePosition: tally.position, into: &w.out)
          raw("</error>\n")
        } else {
          raw("/>\n")
        }
      }
      if let ev = e.pauseEvidence {
        raw("<pause>\n")
        EvidenceXML.write(ev, plan: plan, enrollment: e, rulePosition: tally.position, into: &w.out)
        raw("</pause>\n")
      }
      // Recipient evidence is sparse and sorted by recipient, so it is merged in as the list is written.
      var nextEvidence = 0
      for (ri, r) in e.recipients.enumerated() {
        raw("<recipient")
        attr("id", r.id.string)
        attr("email", r.email)
        while nextEvidence < e.recipientEvidence.count, e.recipientEvidence[nextEvidence].recipient < Int32(ri) {
          nextEvidence += 1
        }
        if nextEvidence < e.recipientEvidence.count, e.recipientEvidence[nextEvidence].recipient == Int32(ri) {
          raw(">\n")
          EvidenceXML.write(
            e.recipientEvidence[nextEvidence].evidence, plan: plan, enrollment: e, rulePosition: tally.position,
            into: &w.out)
          raw("</recipient>\n")
        } else {
          raw("/>\n")
        }
      }
      // Items come ordered by step, then recipient (EnrollmentPlan.items).
      var next = 0
      for (si, step) in e.steps.enumerated() {
        raw("<step")
        num("order", step.order)
        if let t = step.templateID { attr("templateId", t.string) }
        groups.removeAll(keepingCapacity: true)
        while next < e.items.count, e.items[next].step == Int32(si) {
          let item = e.items[next]
          if let g = groups.firstIndex(where: { $0.status == item.status }) {
            groups[g].recipients.append(item.recipient)
          } else {
            groups.append((item.status, [item.recipient]))
          }
          next += 1
        }
        if groups.isEmpty && step.evidence == nil {
          raw("/>\n")
          continue
        }
        raw(">\n")
        if let ev = step.evidence {
          EvidenceXML.write(ev, plan: plan, enrollment: e, rulePosition: tally.position, into: &w.out)
        }
        for g in groups {
          switch g.status {
          case .wouldSend: raw("<WouldSend")
          case .skipped(let r):
            raw("<Skipped")
            attr("reason", r.rawValue)
          case .failedValidation(let r):
            raw("<FailedValidation")
            attr("reason", r.rawValue)
          case .paused(let r):
            raw("<Paused")
            attr("reason", r.rawValue)
          }
          raw(" r=\"")
          for (k, r) in g.recipients.enumerated() {
            if k > 0 { raw(" ") }
            JSONBytes.appendDecimal(Int64(r), to: &w.out)
          }
          raw("\"/>\n")
        }
        raw("</step>\n")
      }
      raw("</enrollment>\n")
      try flush(&w.out)
    }
    raw("</enrollments>\n<orphans>\n")
    for r in plan.orphans.recipients {
      raw("<recipient")
      num("line", RowLine.line(r.line))
      attr("enrollmentId", r.enrollmentID.string)
      attr("recipientId", r.id.string)
      raw("/>\n")
    }
    for s in plan.orphans.steps {
      raw("<step")
      num("line", RowLine.line(s.line))
      attr("sequenceId", s.sequenceID.string)
      num("stepOrder", s.order)
      raw("/>\n")
    }
    raw("</orphans>\n</report>\n")
  }
}
