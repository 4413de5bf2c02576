import SendplanEngine
import SendplanModel

/// How many items each of the tenant's suppression rules decided, for the reports' rules table.
///
/// An item is counted against the one rule its evidence cites: the first by file and line of
/// those that match, as in ``SuppressionMatch``. A rule that matched nothing counts 0 and is
/// still listed, so a reviewer sees rules in force that decide nothing.
package struct SuppressionTally: Sendable {
  /// One per rule of ``TenantPlan/suppressions``, in the same order.
  package struct Rule: Sendable {
    /// Skipped `suppressed` items citing the rule.
    package var decided = 0
    /// WouldSend items citing the rule as expired: addresses that came back when it lapsed.
    package var lapsed = 0
    /// Whether the rule is in force at `asOf`: no expiry, or one after `asOf`.
    package var inForce: Bool
  }

  package var rules: [Rule]
  /// Rule indexes in the order report.xml lists them: by type, value (byte-wise), then file and
  /// line, so the list does not depend on the order the rows were read in.
  package var order: [Int]
  /// The inverse of ``order``: a rule's place in report.xml's list, which `<evidence rule>` names.
  package var position: [Int]

  package init(_ plan: TenantPlan) {
    let s = plan.suppressions
    rules = s.map { Rule(inForce: $0.expiresAt.map { $0 > plan.asOf } ?? true) }
    order = s.indices.sorted { a, b in
      if s[a].type != s[b].type { return s[a].type.rawValue < s[b].type.rawValue }
      if s[a].value != s[b].value { return ByteOrder.less(s[a].value, s[b].value) }
      return s[a].line != s[b].line ? s[a].line < s[b].line : a < b
    }
    position = Array(repeating: 0, count: s.count)
    for (k, i) in order.enumerated() { position[i] = k }
    for e in plan.enrollments where !e.recipientEvidence.isEmpty {
      for item in e.items {
        switch item.status {
        case .skipped(.suppressed), .wouldSend: break
        default: continue
        }
        switch e.evidence(ofRecipient: item.recipient) {
        case .suppression(let m)?: count(m.rule) { $0.decided += 1 }
        case .expiredSuppression(let m)?: count(m.rule) { $0.lapsed += 1 }
        default: break
        }
      }
    }
  }

  private mutating func count(_ rule: Int32, _ add: (inout Rule) -> Void) {
    let i = Int(rule)
    if i >= 0 && i < rules.count { add(&rules[i]) }
  }

  /// Rule indexes by items decided (most first), then lapsed, then in ``order``.
  package func ranked() -> [Int] {
    order.enumerated().sorted { a, b in
      let x = rules[a.element]
      let y = rules[b.element]
      if x.decided != y.decided { return x.decided > y.decided }
      if x.lapsed != y.lapsed { return x.lapsed > y.lapsed }
      return a.offset < b.offset
    }.map(\.element)
  }
}
