import Foundation
import SendplanDryRun
import SendplanEngine
import SendplanFileSystem
import SendplanInput
import SendplanJSON
import SendplanModel
import SendplanTestSupport
import Testing

let asOf = Timestamp.parse("2026-11-27T02:00:00Z") ?? Timestamp(seconds: 0)

/// One verified identity, one active template, a one-step active sequence and one active enrollment
/// with two recipients, the first with quotes and a backslash in its id, the second opted out.
func fixtureTenant() -> TenantInput {
  var t = TenantInput(customerID: ID("acme"))
  t.identities = [IdentityRow(line: 2, id: ID("i1"), status: .verified)]
  t.templates = [TemplateRow(line: 2, id: ID("tp/1"), status: .active)]
  t.sequences = [SequenceRow(line: 2, id: ID("s1"), status: .active, identityID: ID("i1"))]
  t.steps = [StepRow(line: 2, sequenceID: ID("s1"), order: 1, templateID: ID("tp/1"))]
  t.enrollments = [
    EnrollmentRow(line: 2, id: ID("e1"), sequenceID: ID("s1"), status: .active, identityID: nil, batchID: nil)
  ]
  t.recipients = [
    RecipientRow(line: 2, enrollmentID: ID("e1"), id: ID("r2"), email: "b@x.test", optedOut: true, lastStepSent: 0),
    RecipientRow(
      line: 3, enrollmentID: ID("e1"), id: ID("r\"1\\"), email: "a@x.test", optedOut: false, lastStepSent: 0),
  ]
  return t
}

/// The dry-run lines of every enrollment of `t`, as `dry-runs.jsonl` holds them.
func dryRunLines(_ t: TenantInput) throws -> [String] {
  let plan = try Planner.plan(t, asOf: asOf).get()
  return plan.enrollments.map { e in
    var out = JSONBytes()
    TenantWriter.appendDryRun(e, plannedAt: asOf.rfc3339, to: &out)
    return String(decoding: out.bytes, as: UTF8.self)
  }
}

/// A change to the fixture, and the first item's status, reason, keys, and the enrollment's errors.
struct ShapeCase: Sendable, CustomTestStringConvertible {
  let name: String
  let edit: @Sendable (inout TenantInput) -> Void
  let status: String
  let reason: String?
  let keys: [String]
  let errors: [String]?
  var testDescription: String { name }
}

let withReason = ["email", "identityId", "reason", "recipientId", "status", "stepOrder", "templateId"]

let shapeCases: [ShapeCase] = [
  ShapeCase(
    name: "would send", edit: { $0.recipients.removeFirst() }, status: "WouldSend", reason: nil,
    keys: ["email", "identityId", "recipientId", "status", "stepOrder", "suppressionResult", "templateId"],
    errors: nil),
  ShapeCase(
    name: "opted out", edit: { $0.recipients.removeLast() }, status: "Skipped", reason: "opted_out",
    keys: ["email", "identityId", "reason", "recipientId", "status", "stepOrder", "suppressionResult", "templateId"],
    errors: nil),
  ShapeCase(
    name: "enrollment paused", edit: { $0.enrollments[0].status = .paused }, status: "Paused",
    reason: "enrollment_paused", keys: withReason, errors: nil),
  ShapeCase(
    name: "sequence not active", edit: { $0.sequences[0].status = .inactive }, status: "FailedValidation",
    reason: "sequence_not_active", keys: withReason, errors: ["sequence_not_active"]),
  ShapeCase(
    name: "identity missing", edit: { $0.sequences[0].identityID = nil }, status: "FailedValidation",
    reason: "identity_missing", keys: ["email", "reason", "recipientId", "status", "stepOrder", "templateId"],
    errors: ["identity_missing"]),
  ShapeCase(
    name: "identity not verified", edit: { $0.identities[0].status = .unverified }, status: "FailedValidation",
    reason: "identity_not_verified", keys: withReason, errors: ["identity_not_verified"]),
  ShapeCase(
    name: "template not active", edit: { $0.templates[0].status = .draft }, status: "FailedValidation",
    reason: "template_not_active", keys: withReason, errors: nil),
]

/// The keys of a JSON object in the order they appear in `line` (top level of `data.items[0]`).
func firstItemKeys(_ line: String) -> [String] {
  guard let start = line.range(of: "\"items\":[{")?.upperBound, let end = line[start...].firstIndex(of: "}") else {
    return []
  }
  return line[start..<end].split(separator: ",").compactMap { pair in
    pair.hasPrefix("\"") ? pair.split(separator: ":").first.map { String($0.dropFirst().dropLast()) } : nil
  }
}

@Suite struct TenantWriterTests {
  @Test func dryRunLineOfAPlannedFixture() throws {
    let lines = try dryRunLines(fixtureTenant())
    #expect(
      lines == [
        #"{"data":{"enrollmentId":"e1","items":["#
          + #"{"email":"a@x.test","identityId":"i1","recipientId":"r\"1\\","status":"WouldSend","stepOrder":1,"#
          + #""suppressionResult":"allowed","templateId":"tp/1"},"#
          + #"{"email":"b@x.test","identityId":"i1","reason":"opted_out","recipientId":"r2","status":"Skipped","#
          + #""stepOrder":1,"suppressionResult":"opted_out","templateId":"tp/1"}],"#
          + #""plannedAt":"2026-11-27T02:00:00Z"}}"# + "\n"
      ])
  }

  @Test("dry-run item shape per status", arguments: shapeCases)
  func itemShape(_ c: ShapeCase) throws {
    var t = fixtureTenant()
    c.edit(&t)
    let line = try #require(try dryRunLines(t).first)
    let parsed = try JSONParse.parse(Array(line.utf8.dropLast()))
    // Keys sorted byte-wise and nothing but what JSON needs escaped: the canonical rendering.
    #expect(parsed.render(pretty: false) == Array(line.utf8.dropLast()))
    #expect(line.hasSuffix("}}\n") && line.filter { $0 == "\n" }.count == 1)
    let data = try #require(parsed["data"])
    #expect(data["errors"]?.arrayValue?.compactMap(\.stringValue) == c.errors)
    #expect(data["plannedAt"]?.stringValue == "2026-11-27T02:00:00Z" && data["enrollmentId"]?.stringValue == "e1")
    let item = try #require(data["items"]?.arrayValue?.first)
    #expect(item["status"]?.stringValue == c.status)
    #expect(item["reason"]?.stringValue == c.reason)
    #expect(firstItemKeys(line) == c.keys)
    if c.status == "WouldSend" || c.status == "Skipped" {
      #expect(item["suppressionResult"]?.stringValue == (c.reason ?? "allowed"))
    }
  }

  @Test func queueSummaryCountsAllSixStates() throws {
    let plan = try Planner.plan(fixtureTenant(), asOf: asOf).get()
    let e = try #require(plan.enrollments.first)
    var out = JSONBytes()
    TenantWriter.appendQueueSummary(e, plannedAt: asOf.rfc3339, runID: "run-x", to: &out)
    let v = try JSONParse.parse(out.bytes)
    #expect(v.render(pretty: false) == out.bytes)
    #expect(
      v["counts"]
        == .object([
          "DryRunPlanned": .int(0), "FailedValidation": .int(0), "Paused": .int(0), "Queued": .int(0),
          "Skipped": .int(1), "WouldSend": .int(1),
        ]))
    #expect(v["itemCount"] == .int(2) && v["runId"] == .string("run-x") && v["status"] == .string("active"))
    #expect(v["errors"] == .array([]) && v["identityId"] == .string("i1") && v["enrollmentId"] == .string("e1"))
  }

  /// The writer alone reproduces the sample run's dry runs and queues, byte for byte.
  @Test func sampleTenantsMatchTheGoldenFiles() throws {
    let bundle = try BundleReader.read(path: sampleBundle)
    let dir = try scratchFolder("dryrun")
    for tenant in bundle.tenants {
      let plan = try Planner.plan(tenant, asOf: asOf).get()
      let folder = dir.appendingPathComponent(tenant.customerID.string).path
      try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
      try TenantWriter.write(
        plan, runID: "run-20261127T020000Z", to: FolderWriter(dir: folder, sync: false, syncer: nil))
    }
    for (rel, goldenName) in [
      ("acme/dry-runs.jsonl", "acme.dry-runs.jsonl"), ("acme/queue.json", "acme.queue.json"),
      ("globex/dry-runs.jsonl", "globex.dry-runs.jsonl"),
    ] {
      let actual = try Data(contentsOf: dir.appendingPathComponent(rel))
      let expected = try Data(contentsOf: goldenFolder.appendingPathComponent(goldenName))
      // Regenerate the golden files with scripts/regen-golden.
      #expect(actual == expected, "\(rel) differs from Golden/\(goldenName); \(regenHint)")
    }
  }
}
