import Foundation
import SendplanDiagnostics
import SendplanEngine
import SendplanFileSystem
import SendplanInput
import SendplanModel
import SendplanReport
import SendplanTestSupport
import Testing

let asOf = Timestamp.parse("2026-11-27T02:00:00Z") ?? Timestamp(seconds: 0)

/// The sample bundle's plans and the report context of its run (as of 2026-11-27, default run id, no audit).
func samplePlans() throws -> (plans: [TenantPlan], context: ReportContext) {
  let bundle = try BundleReader.read(path: sampleBundle)
  let manifest = try JSONSerialization.jsonObject(
    with: Data(contentsOf: goldenFolder.appendingPathComponent("run.json")))
  let version = ((manifest as? [String: Any])?["tool"] as? [String: Any])?["version"] as? String ?? "?"
  let context = ReportContext(
    runID: "run-20261127T020000Z", toolVersion: version, inputs: bundle.inputs.map(ReportInput.init))
  return (try bundle.tenants.map { try Planner.plan($0, asOf: asOf).get() }, context)
}

/// A folder writer on a fresh scratch folder.
func scratchWriter(_ label: String) throws -> FolderWriter {
  FolderWriter(dir: try scratchFolder(label).path, sync: false, syncer: nil)
}

@Suite struct ReporterTests {
  /// Renders and validates every sample tenant's reports with the built-in templates, then reads
  /// report.xml back and gets the same plan.
  @Test func sampleReportsRenderValidateAndReadBack() throws {
    let reporter = try Reporter.load(templatesDir: nil)
    let (plans, context) = try samplePlans()
    #expect(plans.count == 2)
    for plan in plans {
      let files = try scratchWriter("report")
      try reporter.write(plan: plan, failure: nil, asOf: asOf, context: context, files: files)
      let xml = files.dir + "/report.xml"
      let html = files.dir + "/report.html"
      #expect(reporter.validator.checkXML(xml) == nil)
      #expect(ReportValidator.checkWellFormed(html) == nil)
      #expect(ReportValidator.checkWellFormed(xml) == nil)
      let parsed = try XMLReportReader.read(try #require(WholeFile.bytes(xml)), path: xml)
      #expect(parsed.plan.customerID == plan.customerID && parsed.plan.asOf == plan.asOf)
      #expect(parsed.plan.counts == plan.counts, "\(plan.customerID)")
      #expect(parsed.plan.enrollments.map(\.enrollmentID) == plan.enrollments.map(\.enrollmentID))
      #expect(parsed.context.runID == context.runID && parsed.context.inputs == context.inputs)
      // Rendering the parsed plan gives the same bytes: report.html can be re-rendered from report.xml.
      #expect(XMLReport.render(parsed.plan, context: parsed.context) == WholeFile.bytes(xml))
      #expect(
        HTMLReport.render(parsed.plan, context: parsed.context, templates: reporter.templates) == WholeFile.bytes(html))
    }
  }

  @Test func sampleReportsMatchTheGoldenFiles() throws {
    let reporter = try Reporter.load(templatesDir: nil)
    let (plans, context) = try samplePlans()
    for plan in plans {
      let tenant = plan.customerID.string
      let xml = XMLReport.render(plan, context: context)
      let html = HTMLReport.render(plan, context: context, templates: reporter.templates)
      for (kind, actual) in [("xml", xml), ("html", html)] {
        let expected = try Data(contentsOf: goldenFolder.appendingPathComponent("reports/\(tenant).report.\(kind)"))
        // Regenerate the golden files with scripts/regen-golden.
        #expect(Data(actual) == expected, "\(tenant) report.\(kind) differs from Golden/reports; \(regenHint)")
      }
    }
  }

  @Test func failedTenantGetsAShortWellFormedReport() throws {
    let reporter = try Reporter.load(templatesDir: nil)
    let (_, context) = try samplePlans()
    let failure = TenantFailure(
      customerID: ID("globex"),
      issues: [
        RowIssue(file: "batches.csv", line: 4, code: "bad_value", message: "status <b>&\"x\"", fix: "use active")
      ])
    let files = try scratchWriter("report")
    try reporter.write(plan: nil, failure: failure, asOf: asOf, context: context, files: files)
    #expect(try FileManager.default.contentsOfDirectory(atPath: files.dir) == ["report.html"])
    let html = try String(contentsOfFile: files.dir + "/report.html", encoding: .utf8)
    #expect(html.contains("batches.csv") && html.contains("This tenant was not planned"))
    #expect(html.contains("&lt;b&gt;&amp;") && !html.contains("<b>&"))
    #expect(ReportValidator.checkWellFormed(files.dir + "/report.html") == nil)
  }

  @Test func templateOutputThatIsNotXHTMLFailsTheCheck() throws {
    var templates = ReportTemplates.defaultFiles
    templates["report.html.mustache"] = "<html><body><p>{{customerId}}</body></html>"
    let reporter = try Reporter(templates: ReportTemplates(files: templates, origin: "test"))
    let (plans, context) = try samplePlans()
    let files = try scratchWriter("report")
    let e = #expect(throws: SendplanError.self) {
      try reporter.write(plan: plans[0], failure: nil, asOf: asOf, context: context, files: files)
    }
    #expect(e?.kind == .failedCheck && e?.code == "report_invalid")
    #expect(e?.location?.description == files.dir + "/report.html:1", "\(String(describing: e))")
    #expect(e?.message.contains("not well-formed") == true)
  }

  @Test(arguments: [
    ("<xs:schema", "bad_schema"), ("", "bad_schema"),
  ])
  func aSchemaThatDoesNotCompileIsRefused(_ xsd: String, _ code: String) {
    let e = #expect(throws: SendplanError.self) { try ReportValidator(xsd: xsd) }
    #expect(e?.code == code && e?.kind == .badData)
  }

  @Test func aTemplatesFolderWithNeitherFileIsRefused() throws {
    let dir = try scratchFolder("tpl").path
    let e = #expect(throws: SendplanError.self) { try Reporter.load(templatesDir: dir) }
    #expect(e?.code == "templates_missing" && e?.kind == .missing)
  }
}
