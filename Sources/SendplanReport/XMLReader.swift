import SendplanDiagnostics
import SendplanEngine
import SendplanModel

/// Reads a `report.xml` written by `XMLReport` (format version 2, or 1 from older runs) back into a
/// plan, so `report.html` can be rendered again (new templates) without re-planning. It expects
/// sendplan's own layout, one element a line, and is only used on files that have just passed
/// schema validation; recipient indexes are range-checked here, since the schema cannot.
package enum XMLReportReader {
  package struct Parsed: Sendable {
    package var plan: TenantPlan
    package var context: ReportContext
  }

  package static func read(_ bytes: [UInt8], path: String) throws(SendplanError) -> Parsed {
    func bad(_ line: Int, _ what: String) -> SendplanError {
      SendplanError(
        .badData, code: "report_unreadable", path: path, line: line, message: what,
        fix: "run the nightly job again to write the report again")
    }
    var customer: String?
    var runID = ""
    var tool = ""
    var asOf: Timestamp?
    var inputs: [ReportInput] = []
    var audit: AuditSeal?
    var notPlanned: [String: Int] = [:]
    var enrollments: [EnrollmentPlan] = []
    var orphans = Orphans()
    var current: EnrollmentPlan?
    var stepIndex: [Int64: Int32] = [:]
    var recipientIndex: [String: Int32] = [:]
    var inOrphans = false
    // Evidence: the rows it cites, the rules it points at, and the element it belongs to.
    var files = EvidenceXML.Files()
    var suppressions: [SuppressionRow] = []
    enum Target {
      case error(Int), pause, recipient(Int), step(Int)
    }
    var target: Target?
    // A shared step order's evidence waits for its <row> lines.
    var pending: (attributes: [String: String], target: Target?, rows: [RowRef], line: Int)?
    func attach(_ ev: Evidence, to t: Target?, line: Int) throws(SendplanError) {
      guard var e = current, let t else { throw bad(line, "<evidence> outside an enrollment") }
      switch t {
      case .error(let k): e.errorEvidence[k] = ev
      case .pause: e.pauseEvidence = ev
      case .step(let k): e.steps[k].evidence = ev
      case .recipient(let k):
        if case .duplicate(let of) = ev, of < 0 || Int(of) >= k {
          throw bad(line, "<evidence> names a duplicate that is not an earlier recipient")
        }
        switch ev {
        case .suppression(let m), .expiredSuppression(let m):
          if m.rule < 0 || Int(m.rule) >= suppressions.count {
            throw bad(line, "<evidence> names a rule <suppressions> does not list")
          }
        default: break
        }
        e.recipientEvidence.append(RecipientEvidence(recipient: Int32(k), evidence: ev))
      }
      current = e
    }
    func finishPending() throws(SendplanError) {
      guard let p = pending else { return }
      pending = nil
      guard let ev = files.evidence(p.attributes, rows: p.rows) else { throw bad(p.line, "unreadable <evidence>") }
      try attach(ev, to: p.target, line: p.line)
    }
    // Version 2: the step whose status groups follow, and that step's items (any order).
    var stepItems: [PlannedItem] = []
    func endStep() {
      guard !stepItems.isEmpty else { return }
      stepItems.sort { $0.recipient < $1.recipient }
      current?.items.append(contentsOf: stepItems)
      stepItems.removeAll()
    }
    for (n, rawLine) in bytes.split(separator: 0x0A, omittingEmptySubsequences: true).enumerated() {
      let line = n + 1
      guard let (name, a) = element(rawLine) else { continue }
      if name == "row", pending != nil {
        guard let ref = files.ref(a) else { throw bad(line, "unreadable <row>") }
        pending?.rows.append(ref)
        continue
      }
      try finishPending()
      func need(_ k: String) throws(SendplanError) -> String {
        guard let v = a[k] else { throw bad(line, "<\(name)> has no \(k)") }
        return v
      }
      func int(_ k: String) throws(SendplanError) -> Int64 {
        guard let v = Int64(try need(k)) else { throw bad(line, "<\(name)> \(k) is not a number") }
        return v
      }
      switch name {
      case "report":
        customer = try need("customerId")
        runID = try need("runId")
        tool = try need("tool")
        asOf = Timestamp.parse(try need("asOf"))
      case "input":
        inputs.append(
          ReportInput(
            file: try need("file"), sha256: try need("sha256"), bytes: Int(try int("bytes")), rows: Int(try int("rows"))
          ))
      case "audit":
        audit = AuditSeal(
          segment: try int("segment"), treeSize: try int("treeSize"), chainHead: try need("chainHead"),
          merkleRoot: try need("merkleRoot"), signed: try need("signed") == "true")
      case "notPlanned":
        notPlanned[try need("status")] = Int(try int("count"))
      case "enrollment":
        endStep()
        if let c = current { enrollments.append(c) }
        guard let status = EnrollmentStatus(rawValue: try need("status")) else { throw bad(line, "bad status") }
        current = EnrollmentPlan(
          enrollmentID: ID(try need("id")), status: status, errors: [], identityID: a["identityId"].map(ID.init),
          steps: [], recipients: [], items: [])
        stepIndex = [:]
        recipientIndex = [:]
        target = nil
      case "rule":
        guard let rule = files.rule(a) else { throw bad(line, "unreadable <rule>") }
        suppressions.append(rule)
      case "error":
        guard let code = EnrollmentError(rawValue: try need("code")) else { throw bad(line, "bad error code") }
        current?.errors.append(code)
        current?.errorEvidence.append(nil)
        target = .error((current?.errors.count ?? 1) - 1)
      case "pause":
        target = .pause
      case "evidence":
        if a["kind"] == "shared_step_order" {
          pending = (a, target, [], line)
        } else {
          guard let ev = files.evidence(a) else { throw bad(line, "unreadable <evidence>") }
          if case .duplicate = ev, case .recipient? = target, var e = current, let ref = files.ref(a),
            let k = Int(try need("r")), k >= 0, k < e.recipients.count
          {
            // The earlier recipient's own row, which the duplicate's evidence cites.
            e.recipients[k].line = ref.line
            current = e
          }
          try attach(ev, to: target, line: line)
        }
      case "item":
        guard var e = current else { throw bad(line, "<item> outside an enrollment") }
        let order = try int("stepOrder")
        let s: Int32
        if let k = stepIndex[order] {
          s = k
        } else {
          s = Int32(e.steps.count)
          stepIndex[order] = s
          e.steps.append(PlannedStep(order: order, templateID: a["templateId"].map(ID.init), failure: nil))
        }
        let rid = try need("recipientId")
        let r: Int32
        if let k = recipientIndex[rid] {
          r = k
        } else {
          r = Int32(e.recipients.count)
          recipientIndex[rid] = r
          e.recipients.append(
            RecipientRow(
              line: 0, enrollmentID: e.enrollmentID, id: ID(rid), email: Text(try need("email")), optedOut: false,
              lastStepSent: 0))
        }
        guard let status = itemStatus(try need("status"), a["reason"]) else { throw bad(line, "bad item status") }
        e.items.append(PlannedItem(recipient: r, step: s, status: status))
        current = e
      case "recipient" where !inOrphans:
        guard let enrollmentID = current?.enrollmentID else { throw bad(line, "<recipient> outside an enrollment") }
        let row = RecipientRow(
          line: 0, enrollmentID: enrollmentID, id: ID(try need("id")), email: Text(try need("email")), optedOut: false,
          lastStepSent: 0)
        current?.recipients.append(row)
        target = .recipient((current?.recipients.count ?? 1) - 1)
      case "step" where !inOrphans:
        endStep()
        guard current != nil else { throw bad(line, "<step> outside an enrollment") }
        current?.steps.append(
          PlannedStep(order: try int("order"), templateID: a["templateId"].map(ID.init), failure: nil))
        target = .step((current?.steps.count ?? 1) - 1)
      case "WouldSend", "Skipped", "FailedValidation", "Paused":
        guard let e = current, !e.steps.isEmpty else { throw bad(line, "<\(name)> outside a step") }
        guard let status = itemStatus(name, a["reason"]) else { throw bad(line, "bad reason for \(name)") }
        let step = Int32(e.steps.count - 1)
        for token in try need("r").split(separator: " ") {
          guard let r = Int32(token), r >= 0, Int(r) < e.recipients.count else {
            throw bad(line, "<\(name)> names recipient \(token), which the enrollment does not list")
          }
          stepItems.append(PlannedItem(recipient: r, step: step, status: status))
        }
      case "recipient":
        orphans.recipients.append(
          RecipientRow(
            line: Int(try int("line")), enrollmentID: ID(try need("enrollmentId")), id: ID(try need("recipientId")),
            email: "", optedOut: false, lastStepSent: 0))
      case "step":
        orphans.steps.append(
          StepRow(
            line: Int(try int("line")), sequenceID: ID(try need("sequenceId")), order: try int("stepOrder"),
            templateID: ID("")))
      case "enrollments", "orphans":
        break
      default:
        continue
      }
      if name == "orphans" {
        inOrphans = true
        target = nil
        endStep()
        if let c = current { enrollments.append(c) }
        current = nil
      }
    }
    try finishPending()
    endStep()
    if let c = current { enrollments.append(c) }
    guard let customer, let asOf else { throw bad(1, "not a sendplan report") }
    for i in enrollments.indices {
      // As the planner does: the first enrollment error that fails the steps decides them.
      let e = enrollments[i]
      if let k = e.errors.indices.first(where: { e.errors[$0].validationReason != nil }) {
        enrollments[i].failureEvidence = e.errorEvidence[k]
      }
    }
    var counts = PlanCounts()
    for e in enrollments { counts.merge(PlanCounts.of(e.items)) }
    let plan = TenantPlan(
      customerID: ID(customer), asOf: asOf, enrollments: enrollments, notPlanned: notPlanned, orphans: orphans,
      counts: counts, suppressions: suppressions, fileNames: files.names)
    let version = tool.hasPrefix("sendplan ") ? String(tool.dropFirst(9)) : tool
    return Parsed(plan: plan, context: ReportContext(runID: runID, toolVersion: version, inputs: inputs, audit: audit))
  }

  static func itemStatus(_ name: String, _ reason: String?) -> ItemStatus? {
    switch name {
    case "WouldSend": return .wouldSend
    case "Skipped": return reason.flatMap(SkipReason.init(rawValue:)).map { .skipped($0) }
    case "FailedValidation": return reason.flatMap(ValidationReason.init(rawValue:)).map { .failedValidation($0) }
    case "Paused": return reason.flatMap(PauseReason.init(rawValue:)).map { .paused($0) }
    default: return nil
    }
  }

  /// The name and attributes of the element that starts `line` (`<name a="v" .../>` or `<name ...>`).
  static func element(_ line: ArraySlice<UInt8>) -> (String, [String: String])? {
    var i = line.startIndex
    guard i < line.endIndex, line[i] == 0x3C else { return nil }
    i += 1
    guard i < line.endIndex, line[i] != 0x2F, line[i] != 0x3F else { return nil }
    let nameStart = i
    while i < line.endIndex, line[i] != 0x20, line[i] != 0x2F, line[i] != 0x3E { i += 1 }
    let name = String(decoding: line[nameStart..<i], as: UTF8.self)
    var attrs: [String: String] = [:]
    while i < line.endIndex {
      while i < line.endIndex, line[i] == 0x20 { i += 1 }
      guard i < line.endIndex, line[i] != 0x2F, line[i] != 0x3E else { break }
      let keyStart = i
      while i < line.endIndex, line[i] != 0x3D { i += 1 }
      let key = String(decoding: line[keyStart..<i], as: UTF8.self)
      i += 2  // ="
      let valueStart = i
      while i < line.endIndex, line[i] != 0x22 { i += 1 }
      guard i <= line.endIndex, valueStart <= i else { return nil }
      attrs[key] = unescape(line[valueStart..<i])
      i += 1
    }
    return (name, attrs)
  }

  static func unescape(_ s: ArraySlice<UInt8>) -> String {
    guard s.contains(0x26) else { return String(decoding: s, as: UTF8.self) }
    var out: [UInt8] = []
    var i = s.startIndex
    while i < s.endIndex {
      if s[i] == 0x26, let semi = s[i...].firstIndex(of: 0x3B) {
        let entity = String(decoding: s[(i + 1)..<semi], as: UTF8.self)
        var scalar: Unicode.Scalar?
        switch entity {
        case "amp": scalar = "&"
        case "lt": scalar = "<"
        case "gt": scalar = ">"
        case "quot": scalar = "\""
        case "apos": scalar = "'"
        default:
          if entity.hasPrefix("#x") {
            scalar = UInt32(entity.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init)
          } else if entity.hasPrefix("#") {
            scalar = UInt32(entity.dropFirst()).flatMap(Unicode.Scalar.init)
          }
        }
        if let scalar {
          out.append(contentsOf: String(Character(scalar)).utf8)
          i = semi + 1
          continue
        }
      }
      out.append(s[i])
      i += 1
    }
    return String(decoding: out, as: UTF8.self)
  }
}
