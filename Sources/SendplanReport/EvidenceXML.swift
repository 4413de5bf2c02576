import SendplanEngine
import SendplanJSON
import SendplanModel

/// The `<evidence>` element of report.xml: one ``Evidence`` case, with the same kind names and
/// attribute names as its JSON shape (``EvidenceJSON``), plus what reading it back needs: the
/// table of every cited row, the index of a cited suppression rule in `<suppressions>`, and the
/// index of a duplicate's earlier recipient.
enum EvidenceXML {
  /// Appends one `<evidence …/>` line (with `<row>` lines for a shared step order).
  /// `rulePosition` maps a rule's index in the plan to its place in `<suppressions>`.
  static func write(
    _ ev: Evidence, plan: TenantPlan, enrollment: EnrollmentPlan, rulePosition: [Int], into o: inout [UInt8]
  ) {
    var w = Attributes()
    // Moved in and out, not copied: `o` may hold a large part of the report.
    swap(&w.out, &o)
    defer { swap(&w.out, &o) }
    func cite(_ ref: RowRef) {
      let l = plan.location(ref)
      w.attr("table", ref.table.rawValue)
      w.attr("file", l.file)
      w.num("line", l.line)
    }
    func row(_ kind: String, _ ref: RowRef, _ id: ID, _ status: String) {
      w.attr("kind", kind)
      cite(ref)
      w.attr("id", id.string)
      w.attr("status", status)
    }
    w.raw("<evidence")
    switch ev {
    case .suppression(let m), .expiredSuppression(let m):
      if case .expiredSuppression = ev { w.attr("kind", "expired_suppression") } else { w.attr("kind", "suppression") }
      let i = Int(m.rule)
      w.num("rule", i >= 0 && i < rulePosition.count ? rulePosition[i] : i)
      w.attr("match", m.kind.rawValue)
      w.num("rules", Int(m.count))
    case .optedOut(let ref):
      w.attr("kind", "opted_out")
      cite(ref)
    case .duplicate(let k):
      w.attr("kind", "duplicate")
      w.num("r", Int(k))
      let i = Int(k)
      if i >= 0 && i < enrollment.recipients.count {
        w.attr("recipientId", enrollment.recipients[i].id.string)
        cite(RowRef(.recipients, enrollment.recipients[i].line))
      }
    case .invalidEmail(let p):
      w.attr("kind", "invalid_email")
      w.attr("check", p.rawValue)
    case .template(let ref, let id, let status): row("template", ref, id, status.rawValue)
    case .missingTemplate(let ref, let id):
      w.attr("kind", "missing_template")
      cite(ref)
      w.attr("templateId", id.string)
    case .sharedOrder(let order, let refs):
      w.attr("kind", "shared_step_order")
      w.num("order", Int(order))
      w.raw(">\n")
      for ref in refs {
        w.raw("<row")
        cite(ref)
        w.raw("/>\n")
      }
      w.raw("</evidence>\n")
      return
    case .sequence(let ref, let id, let status): row("sequence", ref, id, status.rawValue)
    case .missingSequence(let ref, let id):
      w.attr("kind", "missing_sequence")
      cite(ref)
      w.attr("sequenceId", id.string)
    case .identity(let ref, let id, let status): row("identity", ref, id, status.rawValue)
    case .missingIdentity(let ref, let id):
      w.attr("kind", "missing_identity")
      cite(ref)
      w.attr("identityId", id.string)
    case .noIdentity(let ref, let id):
      w.attr("kind", "no_identity")
      cite(ref)
      w.attr("id", id.string)
    case .enrollment(let ref, let id, let status): row("enrollment", ref, id, status.rawValue)
    case .batch(let ref, let id, let status): row("batch", ref, id, status.rawValue)
    }
    w.raw("/>\n")
  }

  /// Appends a `<rule>` line of `<suppressions>`: the rule as written, where, and its tally.
  static func writeRule(_ s: SuppressionRow, _ t: SuppressionTally.Rule, plan: TenantPlan, into o: inout [UInt8]) {
    var w = Attributes()
    // Moved in and out, not copied: `o` may hold a large part of the report.
    swap(&w.out, &o)
    defer { swap(&w.out, &o) }
    let l = plan.location(RowRef(.suppressions, s.line))
    w.raw("<rule")
    w.attr("file", l.file)
    w.num("line", l.line)
    w.attr("type", s.type.rawValue)
    w.attr("value", s.value)
    if let r = s.reason { w.attr("reason", r) }
    if let c = s.createdAt { w.attr("createdAt", c.rfc3339) }
    if let x = s.expiresAt { w.attr("expiresAt", x.rfc3339) }
    w.attr("inForce", t.inForce ? "true" : "false")
    w.num("decided", t.decided)
    w.num("lapsed", t.lapsed)
    w.raw("/>\n")
  }

  /// Rebuilds cited rows while a report is read back: each distinct file of a table becomes one
  /// part, so ``TenantPlan/location(_:)`` gives back the file and line that were written.
  struct Files {
    var names: [Table: [String]] = [:]

    mutating func ref(_ a: [String: String]) -> RowRef? {
      a["table"].flatMap(Table.init(rawValue:)).flatMap { ref($0, a) }
    }

    /// The row of `table` that `a`'s `file` and `line` cite.
    mutating func ref(_ table: Table, _ a: [String: String]) -> RowRef? {
      guard let file = a["file"], let line = a["line"].flatMap(Int.init), line > 0, line < RowLine.lineLimit
      else { return nil }
      var parts = names[table] ?? []
      let part = parts.firstIndex(of: file) ?? parts.count
      if part == parts.count {
        parts.append(file)
        names[table] = parts
      }
      return RowRef(table, RowLine.encode(part: part, line: line))
    }

    mutating func rule(_ a: [String: String]) -> SuppressionRow? {
      guard let ref = ref(.suppressions, a), let type = a["type"].flatMap(SuppressionType.init(rawValue:)),
        let value = a["value"]
      else { return nil }
      let created = a["createdAt"].flatMap(Timestamp.parse)
      let expires = a["expiresAt"].flatMap(Timestamp.parse)
      return SuppressionRow(
        line: ref.line, type: type, value: value, expiresAt: expires, reason: a["reason"], createdAt: created)
    }

    /// The evidence of an `<evidence>` line; `rows` are the `<row>` lines of a shared step order.
    /// Nil when the attributes do not make one.
    mutating func evidence(_ a: [String: String], rows: [RowRef] = []) -> Evidence? {
      func id(_ k: String) -> ID? { a[k].map(ID.init) }
      func int32(_ k: String) -> Int32? { a[k].flatMap { Int32($0) } }
      // A cited row with its id and status (template, sequence, identity, enrollment, batch).
      func row<S: RawRepresentable>(_ make: (RowRef, ID, S) -> Evidence) -> Evidence? where S.RawValue == String {
        guard let r = ref(a), let i = id("id"), let status = a["status"].flatMap(S.init(rawValue:)) else { return nil }
        return make(r, i, status)
      }
      switch a["kind"] {
      case "suppression", "expired_suppression":
        guard let rule = int32("rule"), let count = int32("rules"),
          let kind = a["match"].flatMap(SuppressionMatchKind.init(rawValue:))
        else { return nil }
        let m = SuppressionMatch(rule: rule, kind: kind, count: count)
        return a["kind"] == "suppression" ? .suppression(m) : .expiredSuppression(m)
      case "opted_out": return ref(a).map { .optedOut($0) }
      case "duplicate": return int32("r").map { .duplicate(of: $0) }
      case "invalid_email": return a["check"].flatMap(EmailProblem.init(rawValue:)).map { .invalidEmail($0) }
      case "template": return row { (r, i, s: TemplateStatus) in .template(r, i, s) }
      case "missing_template":
        guard let r = ref(a), let i = id("templateId") else { return nil }
        return .missingTemplate(step: r, templateID: i)
      case "shared_step_order": return a["order"].flatMap { Int64($0) }.map { .sharedOrder($0, rows) }
      case "sequence": return row { (r, i, s: SequenceStatus) in .sequence(r, i, s) }
      case "missing_sequence":
        guard let r = ref(a), let i = id("sequenceId") else { return nil }
        return .missingSequence(enrollment: r, sequenceID: i)
      case "identity": return row { (r, i, s: IdentityStatus) in .identity(r, i, s) }
      case "missing_identity":
        guard let r = ref(a), let i = id("identityId") else { return nil }
        return .missingIdentity(namedBy: r, identityID: i)
      case "no_identity":
        guard let r = ref(a), let i = id("id") else { return nil }
        return .noIdentity(sequence: r, sequenceID: i)
      case "enrollment": return row { (r, i, s: EnrollmentStatus) in .enrollment(r, i, s) }
      case "batch": return row { (r, i, s: BatchStatus) in .batch(r, i, s) }
      default: return nil
      }
    }
  }
}

/// Attribute writing for report.xml: escaped strings, decimal numbers.
struct Attributes {
  var out: [UInt8] = []

  mutating func raw(_ s: StaticString) {
    out.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
  }

  mutating func attr(_ name: StaticString, _ value: String) {
    var value = value
    value.withUTF8 { attr(name, bytes: $0) }
  }

  mutating func attr(_ name: StaticString, _ value: Text) {
    value.withBytes { attr(name, bytes: $0) }
  }

  private mutating func attr(_ name: StaticString, bytes: UnsafeBufferPointer<UInt8>) {
    raw(" ")
    raw(name)
    raw("=\"")
    XMLEscape.attribute(bytes, into: &out)
    raw("\"")
  }

  mutating func num(_ name: StaticString, _ value: Int) {
    raw(" ")
    raw(name)
    raw("=\"")
    JSONBytes.appendDecimal(Int64(value), to: &out)
    raw("\"")
  }
}
