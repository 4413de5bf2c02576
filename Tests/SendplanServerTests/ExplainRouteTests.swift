import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SendplanCLI
import Testing

@testable import SendplanServer

@Suite struct ExplainRouteTests {
  @Test func explainReturnsTheCLIsJSON() async throws {
    let f = try ServerFixture()
    let cli = Console(capturing: true)
    let code = Console.$current.withValue(cli) {
      SendplanCommand.execute([
        "explain", "--input", f.bundle.path, "--customer-id", "acme", "--recipient-id", "r04", "--enrollment-id", "e01",
        "--as-of", "2026-11-27T02:00:00Z", "--audit-dir", f.audit, "--format", "json",
      ])
    }
    #expect(code == 0, "\(cli.capturedErr)")
    try await f.app().test(.router) { client in
      let r = try await client.execute(
        uri: "/api/enrollments/e01/explain?recipientId=r04&asOf=2026-11-27T02:00:00Z", method: .get,
        headers: headers("acme"))
      #expect(r.status == .ok)
      let served = try JSONSerialization.jsonObject(with: Data(buffer: r.body)) as? NSDictionary
      let printed = try JSONSerialization.jsonObject(with: Data(cli.capturedOut.utf8)) as? NSDictionary
      #expect(served != nil && served == printed)
      let recipients = try #require(served?["recipients"] as? [[String: Any]])
      let items = try #require(recipients.first?["items"] as? [[String: Any]])
      #expect(items.allSatisfy { ($0["evidence"] as? [String: Any])?["kind"] as? String == "suppression" })
    }
  }

  @Test func explainIsScopedAndChecked() async throws {
    let f = try ServerFixture()
    try await f.app().test(.router) { client in
      var r = try await client.execute(
        uri: "/api/enrollments/e01/explain?recipientId=r04", method: .get, headers: headers("globex"))
      #expect(r.status == .notFound)
      r = try await client.execute(
        uri: "/api/enrollments/e01/explain?recipientId=nobody", method: .get, headers: headers("acme"))
      #expect(r.status == .notFound)
      r = try await client.execute(uri: "/api/enrollments/e01/explain", method: .get, headers: headers("acme"))
      #expect(r.status == .badRequest)
      r = try await client.execute(
        uri: "/api/enrollments/e01/explain?recipientId=r04&asOf=yesterday", method: .get, headers: headers("acme"))
      #expect(r.status == .badRequest)
    }
  }
}
