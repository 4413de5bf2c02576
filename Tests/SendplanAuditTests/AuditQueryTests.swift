import Foundation
import SendplanAudit
import SendplanDiagnostics
import SendplanModel
import SendplanTestSupport
import Testing

/// A page as the Stage 2A audit response (what `audit query` prints), parsed.
func document(_ page: QueryPage) throws -> [String: Any]? {
  try JSONSerialization.jsonObject(with: Data(page.document.render())) as? [String: Any]
}

@Suite struct AuditQueryTests {
  @Test func queryPagesThroughEveryEntry() throws {
    let f = try AuditFixture()
    let all = try AuditQuery.page(root: f.audit, customerID: ID("acme"), enrollmentID: "e01", limit: 1000)
    let full = try document(all)
    let fullEntries = (full?["data"] as? [String: Any])?["entries"] as? [[String: Any]] ?? []
    #expect(fullEntries.count > 10)
    #expect(full?["nextCursor"] is NSNull)
    var cursor: String?
    var paged: [String] = []
    var pages = 0
    repeat {
      let page = try AuditQuery.page(
        root: f.audit, customerID: ID("acme"), enrollmentID: "e01", limit: 4, cursor: cursor)
      let doc = try document(page)
      let entries = (doc?["data"] as? [String: Any])?["entries"] as? [[String: Any]] ?? []
      #expect(entries.count <= 4)
      paged += entries.compactMap { $0["id"] as? String }
      cursor = doc?["nextCursor"] as? String
      #expect(cursor == page.nextCursor)
      pages += 1
    } while cursor != nil && pages < 100
    #expect(paged == fullEntries.compactMap { $0["id"] as? String })
    #expect(Set(paged).count == paged.count)
    #expect(pages > 2)
    let first = fullEntries.first
    #expect(first?["eventType"] as? String == "dry_run_planned")
    #expect(first?["timestamp"] as? String == "2026-11-27T02:00:00Z")
    #expect(Set(fullEntries.compactMap { $0["runId"] as? String }).count == 2, "both nights, oldest first")
  }

  @Test func cursorIsBoundToTenantAndEnrollment() throws {
    let f = try AuditFixture(runs: 1)
    let page = try AuditQuery.page(root: f.audit, customerID: ID("acme"), enrollmentID: "e01", limit: 2)
    let cursor = try #require(try document(page)?["nextCursor"] as? String)
    for (customer, enrollment) in [("globex", "e01"), ("acme", "e02")] {
      let x = #expect(throws: SendplanError.self) {
        try AuditQuery.page(root: f.audit, customerID: ID(customer), enrollmentID: enrollment, cursor: cursor)
      }
      #expect(x?.kind == .usage, "\(String(describing: x))")
      #expect(x?.code == "bad_cursor")
    }
    for limit in [0, 1001] {
      let e = #expect(throws: SendplanError.self) {
        try AuditQuery.page(root: f.audit, customerID: ID("acme"), enrollmentID: "e01", limit: limit)
      }
      #expect(e?.kind == .usage && e?.code == "bad_limit")
    }
  }

  @Test func unknownOrForeignEnrollmentIsNotFound() throws {
    let f = try AuditFixture(runs: 1)
    func query(_ customer: String, _ enrollment: String) -> SendplanError? {
      #expect(throws: SendplanError.self) {
        try AuditQuery.page(root: f.audit, customerID: ID(customer), enrollmentID: enrollment)
      }
    }
    let unknown = query("globex", "no-such")
    // e02 exists for acme, not for globex: same answer as for an id nobody has.
    let foreign = query("globex", "e02")
    let stranger = query("nobody", "e02")
    for e in [unknown, foreign, stranger] {
      #expect(e?.kind == .missing, "\(String(describing: e))")
      #expect(e?.code == "enrollment_not_found")
    }
    #expect(
      foreign.map { "\($0)" }?.replacingOccurrences(of: "e02", with: "X")
        == unknown.map { "\($0)" }?.replacingOccurrences(of: "no-such", with: "X"))
  }
}
