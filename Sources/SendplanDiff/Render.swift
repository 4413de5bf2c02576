import SendplanJSON
import SendplanModel

/// Output formats of `sendplan diff`.
package enum DiffFormat: String, Sendable, CaseIterable {
  case text, json, markdown
}

/// Renders a ``DiffResult``. All output is deterministic for the same inputs.
package enum DiffRenderer {
  /// Version of the JSON format; minor versions only add fields.
  package static let formatVersion = "1.0"

  package static func render(_ r: DiffResult, format: DiffFormat, maxLines: Int = 200) -> String {
    switch format {
    case .text: return text(r)
    case .json: return json(r)
    case .markdown: return markdown(r, maxLines: maxLines)
    }
  }

  static func tenantLabel(_ cid: String) -> String { cid.isEmpty ? "(file)" : cid }

  static func describe(_ s: ItemSide?) -> String {
    guard let s else { return "(none)" }
    return s.reason.map { "\(s.status)(\($0))" } ?? s.status
  }

  static func key(_ c: ItemChange) -> String {
    "\(c.enrollmentId.debugDescription) step \(c.stepOrder) recipient \(c.recipientId.debugDescription)"
  }

  static func line(_ c: ItemChange) -> String {
    let mark = c.flags.isEmpty ? "" : " [" + c.flags.map(\.rawValue).joined(separator: ", ") + "]"
    switch c.action {
    case .add:
      return "+ \(key(c)): \(describe(c.after))\(mark)"
    case .remove:
      return "- \(key(c)): \(describe(c.before))\(mark)"
    case .change:
      if c.fields.isEmpty { return "! \(key(c)): \(describe(c.after)) unchanged\(mark)" }
      let f = c.fields.map { "\($0.field) \($0.before ?? "(none)") → \($0.after ?? "(none)")" }.joined(separator: "; ")
      return "~ \(key(c)): \(f)\(mark)"
    }
  }

  /// The one-line summary, e.g. `Plan: 1 to add, 0 to change, 2 to remove (WouldSend +1, Skipped -2).`
  package static func summaryLine(_ s: DiffSummary) -> String {
    guard s.hasChanges else { return "No changes." }
    let order = ["WouldSend", "Skipped", "FailedValidation", "Paused"]
    let deltas = order.compactMap { k -> String? in
      guard let v = s.statusDelta[k], v != 0 else { return nil }
      return "\(k) \(v > 0 ? "+" : "")\(v)"
    }
    var text = "Plan: \(s.add) to add, \(s.change) to change, \(s.remove) to remove"
    if !deltas.isEmpty { text += " (" + deltas.joined(separator: ", ") + ")" }
    text += "."
    if s.tenantChanges > 0 { text += " \(s.tenantChanges) tenant(s) changed state." }
    if s.enrollmentChanges > 0 { text += " \(s.enrollmentChanges) enrollment(s) changed errors." }
    return text
  }

  static func header(_ r: DiffResult) -> String {
    func info(_ i: RunInfo) -> String {
      var parts: [String] = []
      if let id = i.runId { parts.append("run \(id)") }
      if let a = i.asOf { parts.append("as of \(a)") }
      if let v = i.toolVersion { parts.append("sendplan \(v)") }
      return i.path + (parts.isEmpty ? "" : " (" + parts.joined(separator: ", ") + ")")
    }
    return "--- old: \(info(r.old))\n+++ new: \(info(r.new))"
  }

  static func text(_ r: DiffResult) -> String {
    var out = [header(r)]
    if r.summary.suppressedWouldSend > 0 {
      out.append(
        "!!! \(r.summary.suppressedWouldSend) WouldSend item(s) use an address that is suppressed in this tenant "
          + "in one of the two runs. Confirm each one before anything is sent.")
    }
    let flagged = r.items.filter { !$0.flags.isEmpty }
    if !flagged.isEmpty {
      out.append("Compliance review (\(flagged.count)):")
      for c in flagged { out.append("  \(tenantLabel(c.customerId)): \(line(c))") }
    }
    var tenants: [String] = []
    var seen = Set<String>()
    func touch(_ t: String) { if seen.insert(t).inserted { tenants.append(t) } }
    for t in r.tenants { touch(t.customerId) }
    for e in r.enrollments { touch(e.customerId) }
    for c in r.items { touch(c.customerId) }
    tenants.sort { ByteOrder.less($0, $1) }
    for t in tenants {
      out.append("Tenant \(tenantLabel(t).debugDescription):")
      for tc in r.tenants where tc.customerId == t {
        out.append("  tenant \(tc.before ?? "absent") → \(tc.after ?? "absent")")
      }
      for e in r.enrollments where e.customerId == t {
        let b = e.before.map { "[" + $0.joined(separator: ", ") + "]" } ?? "not planned"
        let a = e.after.map { "[" + $0.joined(separator: ", ") + "]" } ?? "not planned"
        out.append("  enrollment \(e.enrollmentId.debugDescription) errors: \(b) → \(a)")
      }
      for c in r.items where c.customerId == t { out.append("  " + line(c)) }
    }
    out.append(summaryLine(r.summary))
    return out.joined(separator: "\n") + "\n"
  }

  static func markdown(_ r: DiffResult, maxLines: Int) -> String {
    let s = r.summary
    var out: [String] = ["### sendplan diff", ""]
    out.append("`\(r.old.runId ?? r.old.path)` → `\(r.new.runId ?? r.new.path)`")
    out.append("")
    out.append("**\(md(summaryLine(s)))**")
    out.append("")
    if s.suppressedWouldSend > 0 {
      out.append(
        "> [!CAUTION]\n> \(s.suppressedWouldSend) WouldSend item(s) use an address that is suppressed in this "
          + "tenant in one of the two runs. Confirm each one before anything is sent.")
      out.append("")
    }
    out.append("| | add | change | remove | flagged |")
    out.append("|---|---:|---:|---:|---:|")
    out.append("| items | \(s.add) | \(s.change) | \(s.remove) | \(s.flagged) |")
    out.append("")
    if !r.tenants.isEmpty {
      out.append("| tenant | before | after |")
      out.append("|---|---|---|")
      for t in r.tenants {
        out.append("| \(md(tenantLabel(t.customerId))) | \(t.before ?? "absent") | \(t.after ?? "absent") |")
      }
      out.append("")
    }
    var listed = 0
    let total = r.enrollments.count + r.items.count
    var lines: [String] = []
    var currentTenant: String? = nil
    for e in r.enrollments where listed < maxLines {
      if currentTenant != e.customerId {
        lines.append("")
        lines.append("#### \(md(tenantLabel(e.customerId)))")
        currentTenant = e.customerId
      }
      let b = e.before.map { $0.joined(separator: ", ") } ?? "not planned"
      let a = e.after.map { $0.joined(separator: ", ") } ?? "not planned"
      lines.append("- enrollment `\(code(e.enrollmentId))` errors: \(md(b)) → \(md(a))")
      listed += 1
    }
    for c in r.items where listed < maxLines {
      if currentTenant != c.customerId {
        lines.append("")
        lines.append("#### \(md(tenantLabel(c.customerId)))")
        currentTenant = c.customerId
      }
      let flag = c.flags.isEmpty ? "" : "⚠️ "
      lines.append("- \(flag)`\(code(line(c)))`")
      listed += 1
    }
    if !lines.isEmpty {
      out.append("<details open><summary>Changes</summary>")
      out += lines
      out.append("")
      out.append("</details>")
    }
    if total > listed {
      out.append("")
      out.append("_\(total - listed) more change(s) not shown (limit --max-lines \(maxLines))._")
    }
    return out.joined(separator: "\n") + "\n"
  }

  /// Escapes Markdown and HTML meta-characters in table cells and text.
  static func md(_ s: String) -> String {
    var out = ""
    for ch in s {
      switch ch {
      case "|", "\\", "*", "_", "`", "[", "]", "#": out += "\\\(ch)"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "&": out += "&amp;"
      case "\n", "\r": out += " "
      default: out.append(ch)
      }
    }
    return out
  }

  /// Inline code cannot hold a backtick or a line break; replace them visibly.
  static func code(_ s: String) -> String {
    s.replacingOccurrences(of: "`", with: "ˋ").replacingOccurrences(of: "\n", with: "␤")
  }

  static func json(_ r: DiffResult) -> String {
    func str(_ s: String?) -> String { s.map(JSONEscape.quoted) ?? "null" }
    func side(_ s: ItemSide?) -> String {
      guard let s else { return "null" }
      var parts: [String] = []
      if let v = s.identityId { parts.append("\"identityId\":\(str(v))") }
      if let v = s.reason { parts.append("\"reason\":\(str(v))") }
      parts.append("\"status\":\(str(s.status))")
      if let v = s.templateId { parts.append("\"templateId\":\(str(v))") }
      return "{" + parts.joined(separator: ",") + "}"
    }
    func info(_ i: RunInfo) -> String {
      "{\"asOf\":\(str(i.asOf)),\"path\":\(str(i.path)),\"runId\":\(str(i.runId)),\"toolVersion\":\(str(i.toolVersion))}"
    }
    func list(_ a: [String]?) -> String {
      guard let a else { return "null" }
      return "[" + a.map { str($0) }.joined(separator: ",") + "]"
    }
    let s = r.summary
    let deltas = s.statusDelta.keys.sorted().map { "\(str($0)):\(s.statusDelta[$0] ?? 0)" }.joined(separator: ",")
    var out = "{\"enrollments\":["
    out += r.enrollments.map {
      "\n{\"after\":\(list($0.after)),\"before\":\(list($0.before)),\"customerId\":\(str($0.customerId)),\"enrollmentId\":\(str($0.enrollmentId))}"
    }.joined(separator: ",")
    out += "],\"formatVersion\":\(str(formatVersion)),\"items\":["
    out += r.items.map { c in
      let fields = c.fields.map {
        "{\"after\":\(str($0.after)),\"before\":\(str($0.before)),\"field\":\(str($0.field))}"
      }
      return "\n{\"action\":\(str(c.action.rawValue)),\"after\":\(side(c.after)),\"before\":\(side(c.before)),"
        + "\"changed\":[\(fields.joined(separator: ","))],\"customerId\":\(str(c.customerId)),"
        + "\"enrollmentId\":\(str(c.enrollmentId)),\"flags\":\(list(c.flags.map(\.rawValue))),"
        + "\"recipientId\":\(str(c.recipientId)),\"stepOrder\":\(c.stepOrder)}"
    }.joined(separator: ",")
    out += "],\"new\":\(info(r.new)),\"old\":\(info(r.old)),"
    out +=
      "\"summary\":{\"add\":\(s.add),\"change\":\(s.change),\"enrollmentChanges\":\(s.enrollmentChanges),"
      + "\"flagged\":\(s.flagged),\"hasChanges\":\(s.hasChanges),\"remove\":\(s.remove),\"statusDelta\":{\(deltas)},"
      + "\"suppressedWouldSend\":\(s.suppressedWouldSend),\"tenantChanges\":\(s.tenantChanges),"
      + "\"text\":\(str(summaryLine(s)))},\"tenants\":["
    out += r.tenants.map {
      "\n{\"after\":\(str($0.after)),\"before\":\(str($0.before)),\"customerId\":\(str($0.customerId))}"
    }.joined(separator: ",")
    out += "]}\n"
    return out
  }
}
