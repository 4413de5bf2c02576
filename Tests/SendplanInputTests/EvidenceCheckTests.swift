import Foundation
import SendplanEngine
import SendplanInput
import SendplanModel
import SendplanTestSupport
import Testing

/// A deterministic generator (SplitMix64), so the bundle is the same on every run.
struct SeededRandom {
  var state: UInt64
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
  mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
  mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
}

/// Writes a bundle that reaches every reason: a small address pool (so addresses repeat within an
/// enrollment), mixed case, invalid addresses, opt-outs, email, domain and parent-domain rules
/// (several in force for one address, some expired, some expiring later), and suppressions as a
/// folder of two part files.
func writeEvidenceBundle(seed: UInt64) throws -> URL {
  var rnd = SeededRandom(state: seed)
  let dir = try scratchFolder("evidence-bundle")
  var ids = "customer_id,identity_id,status\n"
  var tpl = "customer_id,template_id,status\n"
  var seq = "customer_id,sequence_id,status,identity_id\n"
  var steps = "customer_id,sequence_id,step_order,template_id\n"
  var enr = "customer_id,enrollment_id,sequence_id,status,identity_id,batch_id\n"
  var bat = "customer_id,batch_id,status\n"
  var rec = "customer_id,enrollment_id,recipient_id,email,opted_out,last_step_sent\n"
  var sup = ["", ""].map { _ in "customer_id,type,value,reason,created_at,expires_at\n" }
  let domains = ["x.test", "mail.x.test", "deep.mail.x.test", "y.test", "z.example"]
  let expiries = ["", "", "2026-01-01T00:00:00Z", "2026-11-27T02:00:00Z", "2027-06-01T00:00:00Z"]
  for t in 0..<3 {
    let c = "tenant-\(t)"
    ids += "\(c),id-ok,verified\n\(c),id-unv,unverified\n"
    tpl += "\(c),t1,active\n\(c),t2,active\n\(c),t-draft,draft\n"
    seq += "\(c),seq-a,active,id-ok\n\(c),seq-unv,active,id-unv\n\(c),seq-none,active,\n"
    seq += "\(c),seq-off,inactive,id-ok\n\(c),seq-bad,active,id-ok\n\(c),seq-ghost-id,active,id-ghost\n"
    seq += "\(c),seq-empty,active,id-ok\n"
    for s in ["seq-a", "seq-unv", "seq-none", "seq-off", "seq-ghost-id"] {
      steps += "\(c),\(s),1,t1\n\(c),\(s),2,t2\n"
    }
    steps += "\(c),seq-bad,1,t1\n\(c),seq-bad,2,t-draft\n\(c),seq-bad,3,t-ghost\n\(c),seq-bad,4,t1\n\(c),seq-bad,4,t2\n"
    bat += "\(c),b-paused,paused\n\(c),b-live,active\n"
    // Three domains no domain rule names, so some addresses are sent (and some repeat unsuppressed).
    let addressDomains = domains + ["free.example", "open.example", "w.example"]
    let pool = (0..<40).map { "user\($0)@\(addressDomains[$0 % addressDomains.count])" }
    for k in 0..<30 {
      let value: String
      let type: String
      if rnd.chance(60) {
        type = "email"
        value = pool[rnd.below(pool.count)].uppercased()
      } else {
        type = "domain"
        value = domains[rnd.below(domains.count)]
      }
      let created = rnd.chance(70) ? "2026-0\(1 + rnd.below(9))-01T00:00:00Z" : ""
      sup[k % 2] += "\(c),\(type),\(value),reason-\(k),\(created),\(expiries[rnd.below(expiries.count)])\n"
    }
    let sequences = [
      "seq-a", "seq-a", "seq-a", "seq-a", "seq-unv", "seq-none", "seq-off", "seq-bad", "seq-ghost-id",
      "seq-empty", "seq-missing",
    ]
    for e in 0..<60 {
      let eid = "e\(e)"
      let status = rnd.chance(8) ? "paused" : rnd.chance(5) ? "completed" : "active"
      let identity = rnd.chance(5) ? "id-ghost" : rnd.chance(5) ? "id-ok" : ""
      let batch = rnd.chance(8) ? "b-paused" : rnd.chance(8) ? "b-live" : ""
      enr += "\(c),\(eid),\(sequences[rnd.below(sequences.count)]),\(status),\(identity),\(batch)\n"
      // Recipient ids out of order, so the planner's sort by id matters.
      for r in (0..<10).shuffledDeterministically(&rnd) {
        var email = pool[rnd.below(pool.count)]
        if rnd.chance(30) { email = email.uppercased() }
        if rnd.chance(10) { email = " " + email + " " }
        if rnd.chance(5) {
          email = ["not-an-email", "a@b@c.test", "x@localhost", "é@x.test", "a b@x.test"][rnd.below(5)]
        }
        let opted = rnd.chance(5) ? "true" : "false"
        rec += "\(c),\(eid),r\(r),\(email),\(opted),\(rnd.chance(10) ? 1 : 0)\n"
      }
    }
  }
  let files = [
    "identities.csv": ids, "templates.csv": tpl, "sequences.csv": seq, "steps.csv": steps,
    "enrollments.csv": enr, "batches.csv": bat, "recipients.csv": rec,
  ]
  for (name, text) in files { try Data(text.utf8).write(to: dir.appendingPathComponent(name)) }
  let parts = dir.appendingPathComponent("suppressions")
  try FileManager.default.createDirectory(at: parts, withIntermediateDirectories: true)
  for (k, text) in sup.enumerated() { try Data(text.utf8).write(to: parts.appendingPathComponent("part-\(k).csv")) }
  return dir
}

extension Range where Bound == Int {
  func shuffledDeterministically(_ rnd: inout SeededRandom) -> [Int] {
    var a = Array(self)
    for i in stride(from: a.count - 1, to: 0, by: -1) { a.swapAt(i, rnd.below(i + 1)) }
    return a
  }
}

/// An independent check of the planner's evidence: every cited rule really matches and is in force
/// (or expired, for WouldSend), every duplicate cites an earlier recipient with the same address, and
/// every cited file and line holds the row it claims, read from the file itself.
@Suite("Evidence on a generated bundle")
struct EvidenceCheckTests {
  static let asOf = Timestamp.parse("2026-11-27T02:00:00Z") ?? Timestamp(seconds: 0)

  /// The data fields of a physical line of a plain CSV file (the generator writes no quotes).
  final class Lines {
    let dir: URL
    var cache: [String: [String]] = [:]
    init(_ dir: URL) { self.dir = dir }
    func fields(_ file: String, _ line: Int) throws -> [String] {
      if cache[file] == nil {
        let text = try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8)
        cache[file] = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
      }
      let lines = cache[file] ?? []
      guard line >= 1, line <= lines.count else { return [] }
      return lines[line - 1].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    }
  }

  func matches(_ rule: SuppressionRow, _ address: String) -> SuppressionMatchKind? {
    let v = Email.normalize(rule.value)
    let domain = String(address.split(separator: "@").last ?? "")
    switch rule.type {
    case .email: return v == address ? .email : nil
    case .domain: return v == domain ? .domain : domain.hasSuffix("." + v) ? .parentDomain : nil
    }
  }

  func inForce(_ rule: SuppressionRow) -> Bool { rule.expiresAt.map { $0 > Self.asOf } ?? true }

  @Test("cited rules match and are in force; duplicates are earlier; every file:line holds its row")
  func independentCheck() throws {
    let dir = try writeEvidenceBundle(seed: 16)
    let bundle = try BundleReader.read(path: dir.path)
    let lines = Lines(dir)
    var seen: [String: Int] = [:]
    for tenant in bundle.tenants {
      let plan = try Planner.plan(tenant, asOf: Self.asOf).get()
      let cid = tenant.customerID.string
      /// The row at the cited place: this tenant's, and holding `values` in `columns`.
      func expectRow(_ ref: RowRef, _ expected: [Int: String], _ what: String) throws {
        let at = plan.location(ref)
        let f = try lines.fields(at.file, at.line)
        #expect(f.first == cid, "\(what): \(at.file):\(at.line) is not a row of \(cid)")
        for (col, value) in expected {
          #expect(col < f.count && f[col] == value, "\(what): \(at.file):\(at.line) column \(col) is not \(value)")
        }
      }
      for e in plan.enrollments {
        let eid = e.enrollmentID.string
        for item in e.items {
          let r = e.recipients[Int(item.recipient)]
          let ev = e.evidence(for: item)
          seen[item.status.reason ?? "WouldSend", default: 0] += 1
          let address = Email.normalize(r.email.string)
          switch (item.status, ev) {
          case (.skipped(.suppressed), .suppression(let m)?), (.wouldSend, .expiredSuppression(let m)?):
            let expired = item.status == .wouldSend
            let rule = plan.suppressions[Int(m.rule)]
            #expect(matches(rule, address) == m.kind)
            #expect(inForce(rule) != expired)
            let all = plan.suppressions.filter { inForce($0) != expired && matches($0, address) != nil }
            #expect(Int(m.count) == all.count)
            #expect(rule.line == all.map(\.line).min())
            try expectRow(RowRef(.suppressions, rule.line), [1: rule.type.rawValue, 2: rule.value], "rule")
          case (.wouldSend, nil):
            let any = plan.suppressions.contains { !inForce($0) && matches($0, address) != nil }
            #expect(!any, "a WouldSend item of \(eid)/\(r.id.string) does not cite the expired rule that matches")
          case (.skipped(.duplicateRecipient), .duplicate(let k)?):
            let earlier = e.recipients[Int(k)]
            #expect(earlier.id < r.id)
            #expect(earlier.enrollmentID == r.enrollmentID)
            #expect(Email.normalize(earlier.email.string) == address)
            try expectRow(RowRef(.recipients, earlier.line), [1: eid, 2: earlier.id.string], "earlier recipient")
          case (.skipped(.optedOut), .optedOut(let ref)?):
            try expectRow(ref, [1: eid, 2: r.id.string, 4: "true"], "opt-out")
          case (.skipped(.invalidEmail), .invalidEmail(let p)?):
            #expect(Email.problem(address) == p)
          case (.failedValidation(.templateNotActive), .template(let ref, let id, let st)?):
            try expectRow(ref, [1: id.string, 2: st.rawValue], "template")
          case (.failedValidation(.templateNotFound), .missingTemplate(let ref, let id)?):
            try expectRow(ref, [3: id.string], "step")
            #expect(!tenant.templates.contains { $0.id == id })
          case (.failedValidation(.invalidStep), .sharedOrder(let order, let refs)?):
            #expect(refs.count >= 2)
            for ref in refs { try expectRow(ref, [2: String(order)], "shared step") }
          case (.failedValidation(.sequenceNotActive), .sequence(let ref, let id, let st)?):
            try expectRow(ref, [1: id.string, 2: st.rawValue], "sequence")
          case (.failedValidation(.identityMissing), .noIdentity(let ref, let id)?):
            try expectRow(ref, [1: id.string, 3: ""], "sequence without identity")
          case (.failedValidation(.identityNotFound), .missingIdentity(let ref, let id)?):
            let at = plan.location(ref)
            let f = try lines.fields(at.file, at.line)
            #expect(f.contains(id.string))
            #expect(!tenant.identities.contains { $0.id == id })
          case (.failedValidation(.identityNotVerified), .identity(let ref, let id, let st)?):
            try expectRow(ref, [1: id.string, 2: st.rawValue], "identity")
          case (.paused(.enrollmentPaused), .enrollment(let ref, let id, let st)?):
            try expectRow(ref, [1: id.string, 3: st.rawValue], "enrollment")
          case (.paused(.batchPaused), .batch(let ref, let id, let st)?):
            try expectRow(ref, [1: id.string, 2: st.rawValue], "batch")
          default:
            Issue.record("\(eid)/\(r.id.string): \(item.status) with evidence \(String(describing: ev))")
          }
        }
      }
    }
    // The bundle reaches every reason, so every branch above ran.
    let reasons =
      SkipReason.allCases.map(\.rawValue) + ValidationReason.allCases.map(\.rawValue)
      + PauseReason.allCases.map(\.rawValue) + ["WouldSend"]
    for r in reasons { #expect(seen[r, default: 0] > 0, "the generated bundle has no \(r) item") }
  }
}
