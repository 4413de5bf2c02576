import SendplanDiff
import SendplanTestSupport
import Testing

@Suite struct DiffFilterTests {
  @Test(arguments: [
    ("tenant=acme", true), ("enrollment=e1", true), ("status=WouldSend", true), ("action=add", true),
    ("action=change", true), ("action=remove", true), ("tenant=", true), ("action=rename", false),
    ("colour=red", false), ("tenant", false), ("", false), ("=acme", false),
  ])
  func termsAreKeyEqualsValue(_ term: String, _ accepted: Bool) {
    var f = DiffFilter()
    let added = f.add(term)
    #expect(added == accepted)
  }

  /// Filters of one diff and the recipients left in it.
  @Test(arguments: [
    ([String](), ["r0", "r1", "r2", "r3", "r4", "r5"]),
    (["action=add"], ["r0"]),
    (["action=remove", "action=add"], ["r0", "r1"]),
    (["status=Skipped"], ["r2", "r5"]),
    (["status=WouldSend", "action=change"], ["r3", "r4", "r5"]),
    (["tenant=globex"], []),
    (["enrollment=e2"], []),
  ])
  func filtersNarrowTheItems(_ terms: [String], _ recipients: [String]) throws {
    var f = DiffFilter()
    for t in terms {
      let added = f.add(t)
      #expect(added, "\(t)")
    }
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
          dryRunItem("r0", 1, "WouldSend"), dryRunItem("r2", 1, "Skipped", reason: "suppressed"),
          dryRunItem("r3", 1, "WouldSend", tpl: "t2"), dryRunItem("r4", 1, "WouldSend", ident: "i2"),
          dryRunItem("r5", 1, "Skipped", reason: "opted_out"),
        ])
    ])
    let result = try Differ.diff(old: old, new: new, filter: f)
    #expect(result.items.map(\.recipientId).sorted() == recipients)
  }
}
