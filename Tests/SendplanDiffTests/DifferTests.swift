import Foundation
import SendplanDiagnostics
import SendplanDiff
import SendplanTestSupport
import Testing

@Suite struct DifferTests {
  /// The two sides of `eachActionAndEachChangedField`.
  static func actionPair() throws -> (old: String, new: String) {
    let old = try dryRunsFile([
      dryRunLine(
        "e1",
        [
          dryRunItem("r1", 1, "WouldSend"), dryRunItem("r2", 1, "Skipped", reason: "opted_out"),
          dryRunItem("r3", 1, "WouldSend"), dryRunItem("r4", 1, "WouldSend"), dryRunItem("r5", 1, "WouldSend"),
        ])
    ])
    let new = try dryRunsFile([
      dryRunLine(
        "e1",
        [
          dryRunItem("r0", 1, "WouldSend"), dryRunItem("r2", 1, "Skipped", reason: "suppressed", email: "b@x.test"),
          dryRunItem("r3", 1, "WouldSend", tpl: "t2"),
          dryRunItem("r4", 1, "WouldSend", ident: "i2"), dryRunItem("r5", 1, "Skipped", reason: "opted_out"),
        ], errors: ["identity_missing"], at: "2026-12-01T00:00:00Z")
    ])
    return (old, new)
  }

  @Test func eachActionAndEachChangedField() throws {
    let (old, new) = try Self.actionPair()
    let result = try Differ.diff(old: old, new: new)
    #expect(result.summary.hasChanges)
    let json = DiffRenderer.render(result, format: .json)
    let obj = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] ?? [:]
    let items = obj["items"] as? [[String: Any]] ?? []
    let byRecipient = Dictionary(items.map { ($0["recipientId"] as? String ?? "", $0) }) { a, _ in a }
    #expect(byRecipient["r0"]?["action"] as? String == "add")
    #expect(byRecipient["r1"]?["action"] as? String == "remove")
    func changed(_ r: String) -> [String] {
      (byRecipient[r]?["changed"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String }
    }
    #expect(changed("r2") == ["reason"])
    #expect(changed("r3") == ["templateId"])
    #expect(changed("r4") == ["identityId"])
    #expect(changed("r5") == ["status", "reason"])
    // The added WouldSend is flagged and listed first.
    #expect(items.first?["recipientId"] as? String == "r0")
    #expect(items.first?["flags"] as? [String] == ["into_would_send"])
    let enrollments = obj["enrollments"] as? [[String: Any]] ?? []
    #expect(enrollments.first?["after"] as? [String] == ["identity_missing"])
    let summary = obj["summary"] as? [String: Any] ?? [:]
    #expect(summary["add"] as? Int == 1 && summary["remove"] as? Int == 1 && summary["change"] as? Int == 4)
    // The same, read from the result itself.
    #expect(result.items.first?.recipientId == "r0" && result.items.first?.flags == [.intoWouldSend])
    #expect(result.summary.add == 1 && result.summary.remove == 1 && result.summary.change == 4)
    #expect(DiffRenderer.summaryLine(result.summary).hasPrefix("Plan: 1 to add, 4 to change, 1 to remove"))
    #expect(result.enrollments.map(\.after) == [["identity_missing"]])
    #expect(result.items.first { $0.recipientId == "r5" }?.fields.map(\.field) == ["status", "reason"])
  }

  @Test func suppressedWouldSendIsReportedEvenWhenUnchanged() throws {
    let lines = [
      dryRunLine(
        "e1",
        [
          dryRunItem("r1", 1, "Skipped", reason: "suppressed", email: "x@y.test"),
          dryRunItem("r2", 1, "WouldSend", email: " X@Y.test"),
        ])
    ]
    let result = try Differ.diff(old: try dryRunsFile(lines), new: try dryRunsFile(lines))
    #expect(result.summary.hasChanges)
    #expect(result.summary.suppressedWouldSend == 1)
    #expect(result.items.map(\.recipientId) == ["r2"] && result.items.first?.flags == [.suppressedWouldSend])
    #expect(DiffRenderer.render(result, format: .text).contains("suppressed_would_send"))
  }

  @Test func identicalInputsHaveNoChanges() throws {
    let (old, _) = try Self.actionPair()
    let result = try Differ.diff(old: old, new: old)
    #expect(!result.summary.hasChanges && result.items.isEmpty && result.enrollments.isEmpty)
    #expect(DiffRenderer.render(result, format: .text).hasSuffix("No changes.\n"))
    #expect(DiffRenderer.summaryLine(result.summary) == "No changes.")
  }

  @Test func corruptOrTruncatedInputIsAnErrorWithFileAndLine() throws {
    let good = dryRunLine("e1", [dryRunItem("r1", 1, "WouldSend")])
    let truncated = try dryRunsFile([good, String(good.prefix(40))])
    let t = #expect(throws: SendplanError.self) { try Differ.diff(old: try dryRunsFile([good]), new: truncated) }
    #expect(t.map { "\($0)" }?.contains("dry-runs.jsonl:2:") == true, "\(String(describing: t))")
    #expect(t?.kind == .badData && t?.line == 2)
    let unordered = try dryRunsFile([dryRunLine("e2", []), dryRunLine("e1", [])])
    let u = #expect(throws: SendplanError.self) { try Differ.diff(old: unordered, new: unordered) }
    #expect(u.map { "\($0)" }?.contains(":2:") == true, "\(String(describing: u))")
    // A last line without its newline is a cut-off file.
    let cut = try dryRunsFile([good])
    let bytes = try Data(contentsOf: URL(fileURLWithPath: cut))
    try bytes.dropLast().write(to: URL(fileURLWithPath: cut))
    let c = #expect(throws: SendplanError.self) { try Differ.diff(old: cut, new: cut) }
    #expect(c?.code == "diff_truncated" && c?.line == 1)
    let missing = #expect(throws: SendplanError.self) { try Differ.diff(old: cut, new: cut + ".none") }
    #expect(missing?.code == "diff_missing")
  }
}
