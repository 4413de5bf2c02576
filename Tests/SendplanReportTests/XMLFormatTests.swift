import Foundation
import SendplanDiagnostics
import SendplanEngine
import SendplanEvidence
import SendplanFileSystem
import SendplanJSON
import SendplanModel
import SendplanReport
import SendplanTestSupport
import Testing

/// Format version 2 of report.xml, the streaming check, and reading version 1.
@Suite struct XMLFormatTests {
  static let v1 = repoRoot.appendingPathComponent("Tests/SendplanReportTests/Fixtures/acme.report.v1.xml").path

  /// A report written by the last version-1 release still passes check-report's path and renders
  /// the same report.html as today's file of the same plan, less the evidence, which version 1
  /// did not carry.
  @Test func aVersion1ReportStillChecksAndReadsBack() throws {
    let reporter = try Reporter.load(templatesDir: nil)
    #expect(reporter.validator.checkXML(Self.v1) == nil)
    let (plans, context) = try samplePlans()
    var acme = try #require(plans.first { $0.customerID == ID("acme") })
    let old = try XMLReportReader.read(try #require(WholeFile.bytes(Self.v1)), path: Self.v1)
    #expect(old.plan.counts == acme.counts)
    acme.suppressions = []
    for k in acme.enrollments.indices {
      acme.enrollments[k].errorEvidence = acme.enrollments[k].errors.map { _ in nil }
      acme.enrollments[k].pauseEvidence = nil
      acme.enrollments[k].failureEvidence = nil
      acme.enrollments[k].recipientEvidence = []
      for s in acme.enrollments[k].steps.indices { acme.enrollments[k].steps[s].evidence = nil }
    }
    let html = HTMLReport.render(acme, context: context, templates: reporter.templates)
    #expect(HTMLReport.render(old.plan, context: old.context, templates: reporter.templates) == html)
  }

  /// report.xml carries the evidence of every item and every suppression rule: read back, each
  /// item's evidence says the same as the planner's, file, line and all, for every evidence kind.
  @Test func everyItemsEvidenceReadsBackFromTheReport() throws {
    let (plans, context) = try samplePlans()
    var kinds = Set<String>()
    for plan in plans {
      let back = try XMLReportReader.read(XMLReport.render(plan, context: context), path: "report.xml").plan
      try #require(back.enrollments.count == plan.enrollments.count)
      func rule(_ p: TenantPlan, _ s: SuppressionRow) -> [String] {
        let l = p.location(RowRef(.suppressions, s.line))
        return [
          l.file, String(l.line), s.type.rawValue, s.value, s.reason ?? "-", s.createdAt?.rfc3339 ?? "-",
          s.expiresAt?.rfc3339 ?? "-",
        ]
      }
      // report.xml lists the rules in its own order (type, value, line), not as read.
      let key = { (r: [String]) in r.joined(separator: "\u{0}") }
      #expect(
        back.suppressions.map { rule(back, $0) }.sorted { key($0) < key($1) }
          == plan.suppressions.map { rule(plan, $0) }.sorted { key($0) < key($1) })
      for (e, b) in zip(plan.enrollments, back.enrollments) {
        #expect(b.items == e.items)
        func json(_ ev: Evidence?, _ p: TenantPlan, _ x: EnrollmentPlan) -> JSONValue? {
          ev.map { EvidenceJSON.value($0, plan: p, enrollment: x, addresses: true) }
        }
        for item in e.items {
          let want = json(e.evidence(for: item), plan, e)
          #expect(json(b.evidence(for: item), back, b) == want, "\(e.enrollmentID) \(item)")
          if let kind = want?["kind"]?.stringValue { kinds.insert(kind) }
        }
        #expect(
          zip(e.errorEvidence, b.errorEvidence).allSatisfy { json($0, plan, e) == json($1, back, b) }
            && e.errorEvidence.count == b.errorEvidence.count, "\(e.enrollmentID)")
        for ev in e.errorEvidence { if let kind = json(ev, plan, e)?["kind"]?.stringValue { kinds.insert(kind) } }
      }
    }
    #expect(
      kinds
        == [
          "suppression", "expired_suppression", "opted_out", "duplicate", "invalid_email", "template",
          "missing_template", "shared_step_order", "sequence", "missing_sequence", "identity", "missing_identity",
          "no_identity", "enrollment", "batch",
        ])
  }

  /// The rules table counts each item against the rule its evidence cites, and lists rules that
  /// decided nothing.
  @Test func theSuppressionTallyCountsEveryCitedItem() throws {
    let (plans, _) = try samplePlans()
    let acme = try #require(plans.first { $0.customerID == ID("acme") })
    let tally = SuppressionTally(acme)
    var suppressed = 0
    var lapsed = 0
    for e in acme.enrollments {
      for item in e.items {
        switch (item.status, e.evidence(for: item)) {
        case (.skipped(.suppressed), .suppression?): suppressed += 1
        case (.wouldSend, .expiredSuppression?): lapsed += 1
        default: break
        }
      }
    }
    #expect(suppressed > 0 && lapsed > 0)
    #expect(tally.rules.map(\.decided).reduce(0, +) == suppressed)
    #expect(tally.rules.map(\.lapsed).reduce(0, +) == lapsed)
    #expect(tally.rules.count == acme.suppressions.count)
    #expect(tally.rules.map(\.inForce) == acme.suppressions.map { $0.expiresAt.map { $0 > acme.asOf } ?? true })
  }

  /// Without the version-1 schema a version-1 file is checked against version 2, and fails.
  @Test func aVersion1ReportFailsTheVersion2Schema() throws {
    let validator = try ReportValidator(xsd: try #require(ReportTemplates.defaultFiles["report.xsd"]))
    let e = try #require(validator.checkXML(Self.v1))
    #expect(e.code == "report_invalid" && e.line == 2, "\(e)")
  }

  /// A plan large enough that report.xml goes out in many flushes is written, checked as it is
  /// written, and equals the in-memory rendering byte for byte.
  @Test func aLargeReportIsCheckedWhileItIsWritten() throws {
    let reporter = try Reporter.load(templatesDir: nil)
    let (_, context) = try samplePlans()
    let plan = Self.bigPlan(enrollments: 400, recipients: 60)
    let files = try scratchWriter("big")
    try reporter.write(plan: plan, failure: nil, asOf: asOf, context: context, files: files)
    let written = try #require(WholeFile.bytes(files.dir + "/report.xml"))
    #expect(written.count > 4 * 256 * 1024, "\(written.count) bytes: too small to need several flushes")
    #expect(written == XMLReport.render(plan, context: context))
    let back = try XMLReportReader.read(written, path: "report.xml")
    #expect(back.plan.enrollments.map(\.items) == plan.enrollments.map(\.items))
  }

  /// Damage far into a large file is found by the streaming check, with the right line.
  @Test func damageDeepInALargeReportIsFoundWithItsLine() throws {
    let reporter = try Reporter.load(templatesDir: nil)
    let (_, context) = try samplePlans()
    var bytes = XMLReport.render(Self.bigPlan(enrollments: 400, recipients: 60), context: context)
    let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
    let target = lines.count - 40
    let offset = lines.prefix(target - 1).reduce(0) { $0 + $1.count + 1 }
    // `<recipient` or `<WouldSend` becomes `<Xecipient`/`<XouldSend`: not in the schema.
    bytes[offset + 1] = UInt8(ascii: "X")
    let path = try scratchFolder("damaged").appendingPathComponent("report.xml").path
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    let e = try #require(reporter.validator.checkXML(path))
    #expect(e.line == target && e.message.contains("not valid against report.xsd"), "\(e)")
  }

  @Test(arguments: [
    ("reason=\"suppressed\" r=\"0\"", "reason=\"suppressed\" r=\"99\"", "names recipient 99"),
    ("reason=\"suppressed\" r=\"0\"", "reason=\"suppressed\" r=\"-1\"", "names recipient -1"),
    ("reason=\"suppressed\" r=\"0\"", "reason=\"suppressed\" r=\"0x\"", "names recipient 0x"),
  ])
  func aRecipientIndexOutsideTheListIsRefused(_ from: String, _ to: String, _ message: String) throws {
    let (_, context) = try samplePlans()
    let text = String(
      decoding: XMLReport.render(Self.bigPlan(enrollments: 1, recipients: 1), context: context), as: UTF8.self)
    #expect(text.contains(from))
    let e = #expect(throws: SendplanError.self) {
      try XMLReportReader.read(Array(text.replacingOccurrences(of: from, with: to).utf8), path: "r.xml")
    }
    #expect(e?.code == "report_unreadable" && e?.message.contains(message) == true, "\(String(describing: e))")
  }

  /// Enrollments of `recipients` recipients over three steps, with every status and some gaps.
  static func bigPlan(enrollments: Int, recipients: Int) -> TenantPlan {
    var plans: [EnrollmentPlan] = []
    for k in 0..<enrollments {
      let id = ID("enr-\(k)")
      let rows = (0..<recipients).map {
        RecipientRow(
          line: 0, enrollmentID: id, id: ID("rcp-\($0)"), email: "user\($0)@example.com", optedOut: false,
          lastStepSent: 0)
      }
      let steps = (1...3).map { PlannedStep(order: Int64($0), templateID: ID("tpl-\($0)"), failure: nil) }
      var items: [PlannedItem] = []
      for s in 0..<3 {
        for r in 0..<recipients where (r + s) % 7 != 6 {
          let status: ItemStatus =
            switch (r * 3 + s + k) % 11 {
            case 0: .skipped(.suppressed)
            case 1: .skipped(.optedOut)
            case 2: .failedValidation(.templateNotActive)
            case 3: .paused(.batchPaused)
            default: .wouldSend
            }
          items.append(PlannedItem(recipient: Int32(r), step: Int32(s), status: status))
        }
      }
      plans.append(
        EnrollmentPlan(
          enrollmentID: id, status: .active, errors: [], identityID: ID("id-main"), steps: steps, recipients: rows,
          items: items))
    }
    var counts = PlanCounts()
    for e in plans { counts.merge(PlanCounts.of(e.items)) }
    return TenantPlan(
      customerID: ID("big"), asOf: asOf, enrollments: plans, notPlanned: [:], orphans: Orphans(), counts: counts)
  }
}
