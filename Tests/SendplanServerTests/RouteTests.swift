import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SendplanAudit
import SendplanCLI
import Testing

@testable import SendplanServer

@Suite struct RouteTests {
  @Test func dryRunHasTheContractShape() async throws {
    let f = try ServerFixture()
    try await f.app().test(.router) { client in
      let r = try await client.execute(
        uri: "/api/enrollments/e01/dry-run?asOf=2026-11-28T02:00:00Z", method: .post, headers: headers("acme"))
      #expect(r.status == .ok)
      let data = try #require(try object(r)["data"] as? [String: Any])
      #expect(Set(data.keys) == ["enrollmentId", "plannedAt", "items"])
      #expect(data["enrollmentId"] as? String == "e01" && data["plannedAt"] as? String == "2026-11-28T02:00:00Z")
      let items = try #require(data["items"] as? [[String: Any]])
      #expect(items.count == 25)
      for i in items {
        #expect(i["recipientId"] is String && i["email"] is String && i["stepOrder"] is Int && i["status"] is String)
        if i["status"] as? String == "WouldSend" {
          #expect(
            i["templateId"] is String && i["identityId"] is String && i["suppressionResult"] as? String == "allowed")
        } else {
          #expect(i["reason"] is String)
        }
      }
      #expect(r.headers[.contentType] == "application/json")
    }
  }

  @Test func dryRunShowsUpInTheAuditAndTheQueue() async throws {
    let f = try ServerFixture()
    try await f.app().test(.router) { client in
      let before = try await client.execute(uri: "/api/enrollments/e01/queue", method: .get, headers: headers("acme"))
      let nightly = try #require(try object(before)["data"] as? [String: Any])
      #expect(nightly["runId"] as? String == "run-20261127T020000Z")
      // An on-demand run older than the nightly one does not replace it in the queue.
      _ = try await client.execute(
        uri: "/api/enrollments/e01/dry-run?asOf=2026-11-26T02:00:00Z", method: .post, headers: headers("acme"))
      let still = try await client.execute(uri: "/api/enrollments/e01/queue", method: .get, headers: headers("acme"))
      #expect((try object(still)["data"] as? [String: Any])?["runId"] as? String == "run-20261127T020000Z")
      let d = try await client.execute(uri: "/api/enrollments/e01/dry-run", method: .post, headers: headers("acme"))
      #expect(d.status == .ok)
      let q = try await client.execute(uri: "/api/enrollments/e01/queue", method: .get, headers: headers("acme"))
      let queue = try #require(try object(q)["data"] as? [String: Any])
      let runID = try #require(queue["runId"] as? String)
      #expect(runID.hasPrefix("ondemand-20261128T040000Z-"))
      #expect(queue["plannedAt"] as? String == "2026-11-28T04:00:00Z")
      #expect((queue["counts"] as? [String: Int])?["WouldSend"] == 10)
      let a = try await client.execute(
        uri: "/api/enrollments/e01/audit?limit=1000", method: .get, headers: headers("acme"))
      let entries = try #require((try object(a)["data"] as? [String: Any])?["entries"] as? [[String: Any]])
      let onDemand = entries.filter { $0["runId"] as? String == runID }
      #expect(onDemand.count == 28, "dry_run_planned per step + 25 items")
      #expect(
        onDemand.allSatisfy {
          $0["customerId"] as? String == "acme" && $0["timestamp"] as? String == "2026-11-28T04:00:00Z"
        })
    }
    let v = Console(capturing: true)
    let code = Console.$current.withValue(v) { SendplanCommand.execute(["audit", "verify", "--audit-dir", f.audit]) }
    #expect(code == 0, "\(v.capturedOut)")
  }

  @Test func enrollmentLevelFailureIs422AndStillAudited() async throws {
    let f = try ServerFixture()
    try await f.app().test(.router) { client in
      let r = try await client.execute(uri: "/api/enrollments/e09/dry-run", method: .post, headers: headers("acme"))
      #expect(r.status == .unprocessableContent)
      let e = try #require(try object(r)["error"] as? [String: Any])
      #expect(e["code"] as? String == "enrollment_invalid")
      #expect(e["details"] as? [String] == ["sequence_not_found", "identity_missing"])
      #expect(e["message"] is String)
      let a = try await client.execute(uri: "/api/enrollments/e09/audit", method: .get, headers: headers("acme"))
      let entries = try #require((try object(a)["data"] as? [String: Any])?["entries"] as? [[String: Any]])
      #expect(
        entries.contains {
          $0["eventType"] as? String == "failed_validation" && ($0["runId"] as? String)?.hasPrefix("ondemand-") == true
        })
      // Step-level failures are items of a 200.
      let s = try await client.execute(uri: "/api/enrollments/e08/dry-run", method: .post, headers: headers("acme"))
      #expect(s.status == .ok)
      let items = try #require((try object(s)["data"] as? [String: Any])?["items"] as? [[String: Any]])
      #expect(items.contains { $0["status"] as? String == "FailedValidation" })
    }
  }

  @Test func missingOrMalformedCustomerIs400() async throws {
    let f = try ServerFixture()
    try await f.app().test(.router) { client in
      for (uri, method) in [
        ("/api/enrollments/e01/dry-run", HTTPRequest.Method.post), ("/api/enrollments/e01/audit", .get),
        ("/api/enrollments/e01/queue", .get),
      ] {
        let r = try await client.execute(uri: uri, method: method, headers: headers(nil))
        #expect(r.status == .badRequest)
        #expect(try errorCode(r) == "missing_customer_id")
        let empty = try await client.execute(uri: uri, method: method, headers: headers(""))
        #expect(empty.status == .badRequest)
        #expect(try errorCode(empty) == "bad_customer_id")
      }
      let badAsOf = try await client.execute(
        uri: "/api/enrollments/e01/dry-run?asOf=yesterday", method: .post, headers: headers("acme"))
      #expect(badAsOf.status == .badRequest)
    }
  }

  @Test func anotherTenantsEnrollmentIsTheSame404AsAnUnknownOne() async throws {
    let f = try ServerFixture()
    try await f.app().test(.router) { client in
      for (path, method) in [("dry-run", HTTPRequest.Method.post), ("audit", .get), ("queue", .get)] {
        // e02 belongs to acme only; globex asks for it.
        let foreign = try await client.execute(
          uri: "/api/enrollments/e02/\(path)", method: method, headers: headers("globex"))
        let unknown = try await client.execute(
          uri: "/api/enrollments/nope/\(path)", method: method, headers: headers("globex"))
        let noTenant = try await client.execute(
          uri: "/api/enrollments/e02/\(path)", method: method, headers: headers("nobody"))
        #expect(foreign.status == .notFound && unknown.status == .notFound && noTenant.status == .notFound)
        #expect(foreign.body == unknown.body && unknown.body == noTenant.body)
        #expect(foreign.headers[.contentLength] == unknown.headers[.contentLength])
      }
    }
  }

  @Test func tokenAuthMapsTokensToCustomers() async throws {
    let f = try ServerFixture()
    let table = try TokenTable.parse("# tokens\nacme-token-0123456789 acme\nglobex-token-012345678 globex\n")
    try await f.app(auth: .tokens(table)).test(.router) { client in
      let none = try await client.execute(uri: "/api/enrollments/e01/queue", method: .get, headers: headers("acme"))
      #expect(none.status == .unauthorized)
      let wrong = try await client.execute(
        uri: "/api/enrollments/e01/queue", method: .get, headers: headers("acme", token: "nope-nope-nope-nope"))
      #expect(wrong.status == .unauthorized)
      let other = try await client.execute(
        uri: "/api/enrollments/e01/queue", method: .get, headers: headers("globex", token: "acme-token-0123456789"))
      #expect(other.status == .forbidden)
      #expect(try errorCode(other) == "forbidden")
      let ok = try await client.execute(
        uri: "/api/enrollments/e01/queue", method: .get, headers: headers("acme", token: "acme-token-0123456789"))
      #expect(ok.status == .ok)
    }
    #expect(throws: APIError.self) { try TokenTable.parse("short acme\n") }
    #expect(table.customer(forToken: "globex-token-012345678") == "globex")
  }

  @Test func auditPagesAndCursorsAreBoundToTheEnrollment() async throws {
    let f = try ServerFixture()
    try await f.app().test(.router) { client in
      var cursor: String?
      var seen: [String] = []
      repeat {
        let c = cursor.map { "&cursor=\($0)" } ?? ""
        let r = try await client.execute(
          uri: "/api/enrollments/e01/audit?limit=10\(c)", method: .get, headers: headers("acme"))
        #expect(r.status == .ok)
        let o = try object(r)
        let entries = try #require((o["data"] as? [String: Any])?["entries"] as? [[String: Any]])
        #expect(entries.count <= 10)
        seen += entries.compactMap { $0["id"] as? String }
        cursor = o["nextCursor"] as? String
        if let cursor {
          let other = try await client.execute(
            uri: "/api/enrollments/e02/audit?cursor=\(cursor)", method: .get, headers: headers("acme"))
          #expect(other.status == .badRequest)
        }
      } while cursor != nil
      #expect(seen.count == 28 && Set(seen).count == 28)
      for bad in ["0", "1001", "x"] {
        let r = try await client.execute(
          uri: "/api/enrollments/e01/audit?limit=\(bad)", method: .get, headers: headers("acme"))
        #expect(r.status == .badRequest)
      }
    }
  }

  @Test func aLockedAuditTrailIs503WithRetryAfter() async throws {
    let f = try ServerFixture()
    let lock = try AuditLock(auditDir: f.audit)
    try await f.app().test(.router) { client in
      let r = try await client.execute(uri: "/api/enrollments/e01/dry-run", method: .post, headers: headers("acme"))
      #expect(r.status == .serviceUnavailable)
      #expect(r.headers[.retryAfter] == "30")
      #expect(try errorCode(r) == "audit_busy")
    }
    _ = lock
  }

  @Test func aDamagedStreamIs500WithoutDetails() async throws {
    let f = try ServerFixture()
    let streams = try FileManager.default.contentsOfDirectory(atPath: f.audit + "/streams")
    let acme = try #require(streams.first { $0.hasPrefix("acme-") })
    let seg = f.audit + "/streams/" + acme + "/00000001.log"
    var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: seg)))
    bytes[300] ^= 0x01
    try Data(bytes).write(to: URL(fileURLWithPath: seg))
    try await f.app().test(.router) { client in
      let r = try await client.execute(uri: "/api/enrollments/e01/audit", method: .get, headers: headers("acme"))
      #expect(r.status == .internalServerError)
      let text = String(buffer: r.body)
      #expect(try errorCode(r) == "internal_error")
      #expect(!text.contains("/") && !text.contains("streams"), "\(text)")
    }
  }

  @Test func reloadSwapsAGoodBundleAndKeepsTheOldOneOnABrokenOne() async throws {
    let f = try ServerFixture()
    let admin = "admin-token-0123456789"
    try await f.app(admin: admin).test(.router) { client in
      let noAuth = try await client.execute(uri: "/admin/reload", method: .post)
      #expect(noAuth.status == .unauthorized)
      // A good bundle: a new tenant appears.
      let e = f.bundle.appendingPathComponent("enrollments.csv")
      let original = try String(contentsOf: e, encoding: .utf8)
      try (original + "initech,e1,s-missing,active,,\n").write(to: e, atomically: true, encoding: .utf8)
      let good = try await client.execute(uri: "/admin/reload", method: .post, headers: headers(nil, token: admin))
      #expect(good.status == .ok)
      #expect(try object(good)["tenants"] as? Int == 3)
      let fresh = try await client.execute(
        uri: "/api/enrollments/e1/dry-run", method: .post, headers: headers("initech"))
      #expect(fresh.status == .unprocessableContent)
      // A broken bundle: refused, and the previous one is still served.
      try "not,a,valid,header\n".write(to: e, atomically: true, encoding: .utf8)
      let bad = try await client.execute(uri: "/admin/reload", method: .post, headers: headers(nil, token: admin))
      #expect(bad.status == .unprocessableContent)
      #expect(try errorCode(bad) == "bundle_invalid")
      let still = try await client.execute(
        uri: "/api/enrollments/e1/dry-run", method: .post, headers: headers("initech"))
      #expect(still.status == .unprocessableContent)
      #expect(try errorCode(still) == "enrollment_invalid")
    }
    try await f.app().test(.router) { client in
      let disabled = try await client.execute(uri: "/admin/reload", method: .post)
      #expect(disabled.status == .notFound)
    }
  }

  @Test func healthAndReadiness() async throws {
    let f = try ServerFixture()
    try await f.app().test(.router) { client in
      #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
      #expect(try await client.execute(uri: "/readyz", method: .get).status == .ok)
      let missing = try await client.execute(uri: "/nowhere", method: .get)
      #expect(missing.status == .notFound)
      #expect(try errorCode(missing) == "not_found")
    }
  }
}
