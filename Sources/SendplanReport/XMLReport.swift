import SendplanEngine
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

/// Writes `report.xml`: every item, as attributes, valid against `templates/report.xsd`.
package enum XMLReport {
  package static let namespace = "urn:sendplan:report:1"

  package static func render(_ plan: TenantPlan, context: ReportContext) -> [UInt8] {
    var o: [UInt8] = []
    o.reserveCapacity(4096 + plan.counts.items * 130)
    func raw(_ s: StaticString) {
      o.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }
    func attr(_ name: StaticString, _ value: String) {
      raw(" ")
      raw(name)
      raw("=\"")
      XMLEscape.attribute(value, into: &o)
      raw("\"")
    }
    func num(_ name: StaticString, _ value: some BinaryInteger) { attr(name, String(value)) }

    raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<report xmlns=\"urn:sendplan:report:1\" formatVersion=\"1\"")
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
    raw("</summary>\n<enrollments>\n")
    for e in plan.enrollments {
      raw("<enrollment")
      attr("id", e.enrollmentID.string)
      attr("status", e.status.rawValue)
      num("items", e.items.count)
      if let i = e.identityID { attr("identityId", i.string) }
      raw(">\n")
      for err in e.errors {
        raw("<error")
        attr("code", err.rawValue)
        raw("/>\n")
      }
      for item in e.items {
        let r = e.recipients[Int(item.recipient)]
        let step = e.steps[Int(item.step)]
        raw("<item")
        attr("recipientId", r.id.string)
        attr("email", r.email)
        num("stepOrder", step.order)
        attr("status", item.status.name)
        if let reason = item.status.reason { attr("reason", reason) }
        if let t = step.templateID { attr("templateId", t.string) }
        if let i = e.identityID { attr("identityId", i.string) }
        raw("/>\n")
      }
      raw("</enrollment>\n")
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
    return o
  }
}
