import SendplanDiagnostics
import SendplanEngine
import SendplanFileSystem
import SendplanModel

/// Writes and validates a tenant's reports during a run, or from an existing OUT.
package struct Reporter: Sendable {
  package let templates: ReportTemplates
  package let validator: ReportValidator

  package init(templates: ReportTemplates) throws(SendplanError) {
    self.templates = templates
    validator = try ReportValidator(xsd: templates.schema, legacyXSD: templates.legacySchema)
  }

  /// The built-in templates, or those of `templatesDir` where it has them.
  package static func load(templatesDir dir: String?) throws(SendplanError) -> Reporter {
    var files: [String: String] = [:]
    if let dir {
      for name in ["report.html.mustache", "report.xsd"] {
        if let text = WholeFile.text(dir + "/" + name) { files[name] = text }
      }
      guard !files.isEmpty else {
        throw SendplanError(
          .missing, code: "templates_missing", path: dir,
          message: "the folder holds neither report.html.mustache nor report.xsd",
          fix: "point the templates folder at a copy of the repository's templates/ folder")
      }
    }
    let merged = ReportTemplates.defaultFiles.merging(files) { _, mine in mine }
    return try Reporter(templates: ReportTemplates(files: merged, origin: dir ?? "built-in templates"))
  }

  /// Writes `report.xml` and `report.html` for a planned tenant, or a short `report.html` for a failed
  /// one. Each is checked by libxml2 as it is written (no read-back); the first invalid file is thrown.
  package func write(
    plan: TenantPlan?, failure: TenantFailure?, asOf: Timestamp, context: ReportContext, files: FolderWriter
  ) throws(SendplanError) {
    if let plan {
      let xml = try CheckedFile("report.xml", in: files, schema: validator.schema, what: "not valid against report.xsd")
      var out: [UInt8] = []
      out.reserveCapacity(CheckedFile.threshold + 64 * 1024)
      // Both reports list the rules with their counts: tally them once.
      let tally = SuppressionTally(plan)
      try XMLReport.write(plan, context: context, tally: tally, into: &out) {
        (o: inout [UInt8]) throws(SendplanError) in
        try xml.flushIfNeeded(&o)
      }
      try xml.finish(&out)
      try writeHTML(HTMLReport.render(plan, context: context, templates: templates, tally: tally), files)
    } else if let failure {
      try writeHTML(HTMLReport.renderFailed(failure, asOf: asOf, context: context, templates: templates), files)
    }
  }

  private func writeHTML(_ bytes: [UInt8], _ files: FolderWriter) throws(SendplanError) {
    let html = try CheckedFile("report.html", in: files, schema: nil, what: "not well-formed XHTML")
    var out = bytes
    try html.finish(&out)
  }
}
