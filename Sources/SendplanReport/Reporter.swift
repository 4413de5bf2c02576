import SendplanEngine
import SendplanModel
import SendplanOutput

/// Writes and validates a tenant's reports during a run, or from an existing OUT.
public struct Reporter: Sendable {
  public let templates: ReportTemplates
  public let validator: ReportValidator

  public init(templates: ReportTemplates) throws(ReportError) {
    self.templates = templates
    validator = try ReportValidator(xsd: templates.schema)
  }

  /// Writes `report.xml` and `report.html` for a planned tenant, or a short `report.html` for a failed
  /// one, and checks each with libxml2; the first invalid file is thrown.
  public func write(_ outcome: TenantOutcome, asOf: Timestamp, context: ReportContext, files: TenantFiles) throws {
    if let plan = outcome.plan {
      let xml = try files.write("report.xml", XMLReport.render(plan, context: context))
      if let e = validator.checkXML(xml) { throw e }
      let html = try files.write("report.html", HTMLReport.render(plan, context: context, templates: templates))
      if let e = ReportValidator.checkWellFormed(html) { throw e }
    } else if let failure = outcome.failure {
      let html = try files.write(
        "report.html", HTMLReport.renderFailed(failure, asOf: asOf, context: context, templates: templates))
      if let e = ReportValidator.checkWellFormed(html) { throw e }
    }
  }
}
