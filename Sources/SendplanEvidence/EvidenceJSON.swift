import SendplanEngine
import SendplanJSON
import SendplanModel

/// The one JSON shape of ``Evidence``: the `evidence` member of audit records (and so `audit query`'s
/// `payload.evidence`) and of `sendplan explain --format json`. docs/explain.md lists every kind.
package enum EvidenceJSON {
  /// The evidence as a JSON object. `addresses` false leaves out what could be an e-mail address
  /// (the value of an `email` suppression rule), as the audit trail holds no personal data.
  package static func value(
    _ evidence: Evidence, plan: TenantPlan, enrollment: EnrollmentPlan, addresses: Bool
  ) -> JSONValue {
    var o: [String: JSONValue] = [:]
    func cite(_ ref: RowRef) {
      let l = plan.location(ref)
      o["file"] = .string(l.file)
      o["line"] = .int(Int64(l.line))
    }
    func row(_ kind: String, _ ref: RowRef, _ id: ID, _ status: String) {
      o["kind"] = .string(kind)
      cite(ref)
      o["id"] = .string(id.string)
      o["status"] = .string(status)
    }
    switch evidence {
    case .suppression(let m), .expiredSuppression(let m):
      if case .expiredSuppression = evidence {
        o["kind"] = .string("expired_suppression")
      } else {
        o["kind"] = .string("suppression")
      }
      o["match"] = .string(m.kind.rawValue)
      o["rules"] = .int(Int64(m.count))
      let i = Int(m.rule)
      if i >= 0 && i < plan.suppressions.count {
        let r = plan.suppressions[i]
        cite(RowRef(.suppressions, r.line))
        o["type"] = .string(r.type.rawValue)
        if r.type == .domain {
          o["domain"] = .string(Email.normalize(r.value))
          o["value"] = .string(r.value)
        } else if addresses {
          o["value"] = .string(r.value)
        }
        if let reason = r.reason { o["reason"] = .string(reason) }
        if let c = r.createdAt { o["createdAt"] = .string(c.rfc3339) }
        if let x = r.expiresAt { o["expiresAt"] = .string(x.rfc3339) }
      }
    case .optedOut(let ref):
      o["kind"] = .string("opted_out")
      cite(ref)
    case .duplicate(let k):
      o["kind"] = .string("duplicate")
      let i = Int(k)
      if i >= 0 && i < enrollment.recipients.count {
        let r = enrollment.recipients[i]
        o["recipientId"] = .string(r.id.string)
        cite(RowRef(.recipients, r.line))
      }
    case .invalidEmail(let p):
      o["kind"] = .string("invalid_email")
      o["check"] = .string(p.rawValue)
    case .template(let ref, let id, let status): row("template", ref, id, status.rawValue)
    case .missingTemplate(let ref, let id):
      o["kind"] = .string("missing_template")
      cite(ref)
      o["templateId"] = .string(id.string)
    case .sharedOrder(let order, let refs):
      o["kind"] = .string("shared_step_order")
      o["order"] = .int(order)
      o["rows"] = .array(
        refs.map { ref in
          let l = plan.location(ref)
          return .object(["file": .string(l.file), "line": .int(Int64(l.line))])
        })
    case .sequence(let ref, let id, let status): row("sequence", ref, id, status.rawValue)
    case .missingSequence(let ref, let id):
      o["kind"] = .string("missing_sequence")
      cite(ref)
      o["sequenceId"] = .string(id.string)
    case .identity(let ref, let id, let status): row("identity", ref, id, status.rawValue)
    case .missingIdentity(let ref, let id):
      o["kind"] = .string("missing_identity")
      cite(ref)
      o["identityId"] = .string(id.string)
    case .noIdentity(let ref, let id):
      o["kind"] = .string("no_identity")
      cite(ref)
      o["id"] = .string(id.string)
    case .enrollment(let ref, let id, let status): row("enrollment", ref, id, status.rawValue)
    case .batch(let ref, let id, let status): row("batch", ref, id, status.rawValue)
    }
    return .object(o)
  }

  /// The canonical bytes of an evidence object in a record: compact, members sorted byte-wise.
  package static func bytes(_ v: JSONValue) -> [UInt8] { v.render(pretty: false) }
}
