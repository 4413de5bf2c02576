import SendplanAudit
import SendplanDiagnostics
import SendplanEngine
import SendplanEvidence
import SendplanInput
import SendplanJSON
import SendplanModel

/// What `sendplan explain` (and the API's explain endpoint) asks about: one address or recipient
/// id of one tenant, optionally in one enrollment.
package struct ExplainQuery: Sendable {
  package var customerID: ID
  /// Matched after the same normalisation as suppressions (trimmed, ASCII letters folded).
  package var email: String?
  package var recipientID: ID?
  package var enrollmentID: ID?

  package init(customerID: ID, email: String? = nil, recipientID: ID? = nil, enrollmentID: ID? = nil) {
    self.customerID = customerID
    self.email = email
    self.recipientID = recipientID
    self.enrollmentID = enrollmentID
  }

  func matches(_ r: RecipientRow) -> Bool {
    if let enrollmentID, r.enrollmentID != enrollmentID { return false }
    if let recipientID, r.id != recipientID { return false }
    if let email, Email.normalize(r.email.string) != Email.normalize(email) { return false }
    return true
  }
}

/// The answer: every recipients row the query matches, with its items, their evidence and the history.
package struct Explanation: Sendable {
  package var query: ExplainQuery
  package var plan: TenantPlan
  /// One per matching recipients row, by enrollment id then recipient id.
  package var matches: [Match]
  /// The audit entries of the matching recipients, oldest first; nil when no audit folder was given.
  package var history: [JSONValue]?

  /// One matching recipients row.
  package struct Match: Sendable {
    package var recipient: RecipientRow
    /// The enrollment's status, nil when the tenant has no such enrollment (an orphan row).
    package var enrollmentStatus: EnrollmentStatus?
    /// Index into the plan's enrollments, nil when the enrollment is not planned.
    package var enrollment: Int?
    /// Index of the recipient in that enrollment plan's recipients.
    package var recipientIndex: Int32?
  }

  package var isEmpty: Bool { matches.isEmpty }
}

/// Builds explanations: plans the one tenant and picks the query's rows out of the plan.
package enum Explainer {
  /// Reads only `query.customerID`'s rows from the bundle (other tenants are dropped while parsing).
  /// Nil when the bundle has no rows of that tenant.
  package static func readTenant(bundle path: String, customerID: ID) throws(SendplanErrors) -> TenantInput? {
    let bundle = try BundleReader.read(path: path, filter: TenantFilter { $0 == customerID })
    return bundle.tenants.first { $0.customerID == customerID }
  }

  /// Plans `tenant` as of `asOf` and picks the rows the query matches, or the tenant's row problems.
  package static func explain(
    _ query: ExplainQuery, tenant: TenantInput, asOf: Timestamp
  ) -> Result<Explanation, TenantFailure> {
    switch Planner.plan(tenant, asOf: asOf) {
    case .failure(let f): return .failure(f)
    case .success(let plan): return .success(explain(query, plan: plan, tenant: tenant))
    }
  }

  static func explain(_ query: ExplainQuery, plan: TenantPlan, tenant: TenantInput) -> Explanation {
    var matches: [Explanation.Match] = []
    var planned: [ID: Int] = [:]
    for (k, e) in plan.enrollments.enumerated() { planned[e.enrollmentID] = k }
    var statuses: [ID: EnrollmentStatus] = [:]
    for e in tenant.enrollments where statuses[e.id] == nil { statuses[e.id] = e.status }
    for r in tenant.recipients where query.matches(r) {
      var m = Explanation.Match(recipient: r, enrollmentStatus: statuses[r.enrollmentID])
      if let k = planned[r.enrollmentID] {
        let e = plan.enrollments[k]
        // The plan keeps one row per recipient id (a duplicate key fails the tenant), so this is it.
        if let i = e.recipients.firstIndex(where: { $0.id == r.id && $0.line == r.line }) {
          m.enrollment = k
          m.recipientIndex = Int32(i)
        }
      }
      matches.append(m)
    }
    matches.sort {
      $0.recipient.enrollmentID == $1.recipient.enrollmentID
        ? $0.recipient.id < $1.recipient.id : $0.recipient.enrollmentID < $1.recipient.enrollmentID
    }
    return Explanation(query: query, plan: plan, matches: matches, history: nil)
  }

  /// The audit entries of the explanation's recipients, read as `audit query` reads them (every entry
  /// checked against the chain); an enrollment the trail does not know has no history.
  package static func history(_ x: Explanation, auditDir: String) throws(SendplanError) -> [JSONValue] {
    var wanted: [String: Set<String>] = [:]
    for m in x.matches { wanted[m.recipient.enrollmentID.string, default: []].insert(m.recipient.id.string) }
    var out: [(key: String, n: Int, entry: JSONValue)] = []
    for enrollment in wanted.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
      let ids = wanted[enrollment] ?? []
      var cursor: String?
      repeat {
        let page: QueryPage
        do throws(SendplanError) {
          page = try AuditQuery.page(
            root: auditDir, customerID: x.query.customerID, enrollmentID: enrollment, limit: AuditQuery.maxLimit,
            cursor: cursor)
        } catch  where error.kind == .missing && error.code == "enrollment_not_found" {
          break
        }
        for entry in page.entries {
          guard let r = entry["payload"]?["recipientId"]?.stringValue, ids.contains(r) else { continue }
          out.append((entry["timestamp"]?.stringValue ?? "", out.count, entry))
        }
        cursor = page.nextCursor
      } while cursor != nil
    }
    // Oldest first across enrollments; within one, the stream's order.
    out.sort { $0.key == $1.key ? $0.n < $1.n : $0.key < $1.key }
    return out.map(\.entry)
  }

  // MARK: JSON

  /// The stable JSON form (docs/explain.md).
  package static func json(_ x: Explanation) -> JSONValue {
    var matches: [JSONValue] = []
    for m in x.matches {
      let l = x.plan.location(RowRef(.recipients, m.recipient.line))
      var o: [String: JSONValue] = [
        "enrollmentId": .string(m.recipient.enrollmentID.string),
        "enrollmentStatus": m.enrollmentStatus.map { JSONValue.string($0.rawValue) } ?? .null,
        "recipientId": .string(m.recipient.id.string),
        "email": .string(m.recipient.email.string),
        "file": .string(l.file),
        "line": .int(Int64(l.line)),
        "lastStepSent": .int(m.recipient.lastStepSent),
      ]
      var items: [JSONValue] = []
      var errors: [JSONValue] = []
      if let k = m.enrollment, let ri = m.recipientIndex {
        let e = x.plan.enrollments[k]
        for (i, code) in e.errors.enumerated() {
          let ev = i < e.errorEvidence.count ? e.errorEvidence[i] : nil
          errors.append(
            .object([
              "code": .string(code.rawValue),
              "evidence": ev.map { EvidenceJSON.value($0, plan: x.plan, enrollment: e, addresses: true) } ?? .null,
            ]))
        }
        for item in e.items where item.recipient == ri {
          let step = e.steps[Int(item.step)]
          items.append(
            .object([
              "stepOrder": .int(step.order),
              "templateId": step.templateID.map { JSONValue.string($0.string) } ?? .null,
              "status": .string(item.status.name),
              "reason": item.status.reason.map { JSONValue.string($0) } ?? .null,
              "evidence": e.evidence(for: item).map {
                EvidenceJSON.value($0, plan: x.plan, enrollment: e, addresses: true)
              } ?? .null,
            ]))
        }
      }
      o["errors"] = .array(errors)
      o["items"] = .array(items)
      matches.append(.object(o))
    }
    var doc: [String: JSONValue] = [
      "customerId": .string(x.query.customerID.string),
      "asOf": .string(x.plan.asOf.rfc3339),
      "query": .object([
        "email": x.query.email.map { JSONValue.string($0) } ?? .null,
        "recipientId": x.query.recipientID.map { JSONValue.string($0.string) } ?? .null,
        "enrollmentId": x.query.enrollmentID.map { JSONValue.string($0.string) } ?? .null,
      ]),
      "recipients": .array(matches),
    ]
    if let h = x.history { doc["history"] = .array(h) }
    return .object(doc)
  }

  // MARK: Text

  /// The reviewer's text form: one block per matching recipients row, then the history.
  package static func text(_ x: Explanation) -> String {
    var lines: [String] = []
    let asked =
      [
        x.query.email.map { "email \($0.debugDescription)" },
        x.query.recipientID.map { "recipient \($0.string.debugDescription)" },
        x.query.enrollmentID.map { "enrollment \($0.string.debugDescription)" },
      ].compactMap { $0 }.joined(separator: ", ")
    lines.append(
      "customer \(x.query.customerID.string.debugDescription) as of \(x.plan.asOf.rfc3339), \(asked): "
        + "\(x.matches.count) recipient row\(x.matches.count == 1 ? "" : "s")")
    let doc = json(x)
    for m in doc["recipients"]?.arrayValue ?? [] {
      lines.append("")
      let status = m["enrollmentStatus"]?.stringValue
      lines.append(
        "enrollment \(m["enrollmentId"]?.stringValue ?? "") (\(status ?? "not in enrollments")), "
          + "recipient \(m["recipientId"]?.stringValue ?? "") <\(m["email"]?.stringValue ?? "")> "
          + "(\(m["file"]?.stringValue ?? ""):\(m["line"]?.intValue ?? 0))")
      for e in m["errors"]?.arrayValue ?? [] {
        lines.append("  enrollment error \(e["code"]?.stringValue ?? ""): \(EvidenceText.describe(e["evidence"]))")
      }
      let items = m["items"]?.arrayValue ?? []
      if items.isEmpty {
        switch status {
        case "active", "paused": lines.append("  no items (past every step, or the sequence has no steps)")
        case nil: lines.append("  not planned: the tenant has no such enrollment")
        default: lines.append("  not planned: the enrollment is \(status ?? "")")
        }
      }
      for i in items {
        var l = "  step \(i["stepOrder"]?.intValue ?? 0)  \(i["status"]?.stringValue ?? "")"
        if let r = i["reason"]?.stringValue { l += "  \(r)" }
        if let ev = i["evidence"], ev != .null { l += ": " + EvidenceText.describe(ev) }
        lines.append(l)
      }
    }
    if let h = x.history {
      lines.append("")
      lines.append(
        "history (audit trail, every entry checked against its hash): \(h.count) entr\(h.count == 1 ? "y" : "ies")")
      for entry in h {
        let p = entry["payload"]
        var l =
          "  \(entry["timestamp"]?.stringValue ?? "") \(entry["runId"]?.stringValue ?? "") "
          + "enrollment \(entry["enrollmentId"]?.stringValue ?? "") step \(p?["stepOrder"]?.intValue ?? 0) "
          + "recipient \(p?["recipientId"]?.stringValue ?? ""): \(entry["eventType"]?.stringValue ?? "")"
        if let r = p?["reason"]?.stringValue { l += " \(r)" }
        if let ev = p?["evidence"] { l += ": " + EvidenceText.describe(ev) }
        lines.append(l)
      }
    }
    return lines.joined(separator: "\n") + "\n"
  }
}
