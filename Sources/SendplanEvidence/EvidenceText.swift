import SendplanJSON

/// Evidence as one line of prose, for `sendplan explain`'s text output and the HTML report.
///
/// It reads the JSON shape (``EvidenceJSON``), so that an audit entry's stored evidence reads the
/// same as tonight's.
package enum EvidenceText {
  /// One line of prose for an evidence object (as in ``EvidenceJSON``).
  package static func describe(_ ev: JSONValue?) -> String {
    guard let ev, ev != .null else { return "no evidence" }
    func s(_ k: String) -> String { ev[k]?.stringValue ?? "" }
    var at: String { "\(s("file")):\(ev["line"]?.intValue ?? 0)" }
    switch s("kind") {
    case "suppression", "expired_suppression":
      let what: String
      switch s("match") {
      case "email":
        what = ev["value"] == nil ? "address on an email rule" : "address on email rule \(s("value").debugDescription)"
      case "domain": what = "domain \(s("domain")) suppressed"
      default: what = "parent domain \(s("domain")) suppressed"
      }
      var facts: [String] = []
      if let r = ev["reason"]?.stringValue { facts.append(r) }
      if let c = ev["createdAt"]?.stringValue { facts.append("since \(c)") }
      if let x = ev["expiresAt"]?.stringValue {
        facts.append(s("kind") == "expired_suppression" ? "expired \(x)" : "until \(x)")
      } else {
        facts.append("no expiry")
      }
      let count = ev["rules"]?.intValue ?? 1
      let more =
        count > 1
        ? "; \(count) \(s("kind") == "suppression" ? "rules in force" : "expired rules") match, this one is first by file and line"
        : ""
      let head = s("kind") == "expired_suppression" ? "not suppressed any more: " : ""
      return "\(head)\(what) (\(facts.joined(separator: ", ")); \(at))\(more)"
    case "opted_out": return "opted out (\(at))"
    case "duplicate": return "same address as recipient \(s("recipientId")) (\(at))"
    case "invalid_email": return "the address fails the check \(s("check"))"
    case "missing_template": return "the step names template \(s("templateId")), which does not exist (\(at))"
    case "shared_step_order":
      let rows = (ev["rows"]?.arrayValue ?? []).map {
        "\($0["file"]?.stringValue ?? ""):\($0["line"]?.intValue ?? 0)"
      }
      return "step order \(ev["order"]?.intValue ?? 0) is shared by \(rows.joined(separator: ", "))"
    case "missing_sequence": return "the enrollment names sequence \(s("sequenceId")), which does not exist (\(at))"
    case "missing_identity": return "the row names identity \(s("identityId")), which does not exist (\(at))"
    case "no_identity": return "neither the enrollment nor sequence \(s("id")) names an identity (\(at))"
    case let kind: return "\(kind) \(s("id")) is \(s("status")) (\(at))"
    }
  }
}
