import Foundation
import SendplanDiagnostics
import SendplanEngine
import SendplanFileSystem
import SendplanModel
import SendplanReport
import SendplanTestSupport
import Testing

/// Format version 2 of report.xml, the streaming check, and reading version 1.
@Suite struct XMLFormatTests {
  static let v1 = repoRoot.appendingPathComponent("Tests/SendplanReportTests/Fixtures/acme.report.v1.xml").path

  /// A report written by the last version-1 release still passes check-report's path and renders
  /// the same report.html as today's version-2 file of the same plan.
  @Test func aVersion1ReportStillChecksAndReadsBack() throws {
    let reporter = try Reporter.load(templatesDir: nil)
    #expect(reporter.validator.checkXML(Self.v1) == nil)
    let (plans, context) = try samplePlans()
    let acme = try #require(plans.first { $0.customerID == ID("acme") })
    let old = try XMLReportReader.read(try #require(WholeFile.bytes(Self.v1)), path: Self.v1)
    #expect(old.plan.counts == acme.counts)
    let html = HTMLReport.render(acme, context: context, templates: reporter.templates)
    #expect(HTMLReport.render(old.plan, context: old.context, templates: reporter.templates) == html)
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
