import ArgumentParser
import Foundation
import SendplanDiagnostics
import SendplanEngine
import SendplanFileSystem
import SendplanModel
import SendplanReport
import SendplanRun

struct ReportCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "report",
    abstract: "Render report.html again for every tenant of an existing OUT, without re-planning.",
    discussion: """
      Planned tenants are rendered from their report.xml (checked against the schema first), failed
      tenants from errors.json and run.json. Each report.html is replaced atomically and checked with
      libxml2. Use it after changing templates (--templates DIR).
      Exits 0 when every report was rendered and is valid, 66 when OUT is not a sendplan output,
      70 when a rendered report is not well-formed.
      """
  )

  @Option(name: .long, help: "An OUT folder written by `sendplan run`.")
  var out: String

  @Option(name: .long, help: "Folder with report.html.mustache and/or report.xsd to use instead of the built-in ones.")
  var templates: String?

  func run() throws {
    let console = Console.current
    let reporter = try loadReporter(templates, console: console)
    let manifestURL = URL(fileURLWithPath: out).appendingPathComponent("run.json")
    guard let data = try? Data(contentsOf: manifestURL),
      let manifest = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    else {
      console.err(
        "error: \(manifestURL.path): not a sendplan output (no readable run.json) (fix: pass the --out of a run)")
      throw Exit(status: .noInput)
    }
    let runID = manifest["runId"] as? String ?? ""
    let asOf = (manifest["asOf"] as? String).flatMap(Timestamp.parse) ?? Timestamp(seconds: 0)
    let inputs = (manifest["inputs"] as? [[String: Any]] ?? []).map {
      ReportInput(
        file: $0["name"] as? String ?? "", sha256: $0["sha256"] as? String ?? "", bytes: $0["bytes"] as? Int ?? 0,
        rows: $0["rows"] as? Int ?? 0)
    }
    var rendered = 0
    for tenant in manifest["tenants"] as? [[String: Any]] ?? [] {
      // run.json names folders as tenants/<name>; anything else is not trusted as a path.
      guard let named = tenant["folder"] as? String, named.hasPrefix("tenants/") else { continue }
      let folder = String(named.dropFirst("tenants/".count))
      guard !folder.isEmpty, !folder.contains("/"), !folder.hasPrefix(".") else { continue }
      let dir = out + "/tenants/" + folder
      let html: [UInt8]
      if tenant["status"] as? String == "failed" {
        let issues = (tenant["errors"] as? [[String: Any]] ?? []).map {
          RowIssue(
            file: $0["file"] as? String ?? "", line: $0["line"] as? Int ?? 0, code: $0["code"] as? String ?? "",
            message: $0["message"] as? String ?? "", fix: $0["fix"] as? String ?? "")
        }
        let failure = TenantFailure(customerID: ID(tenant["customerId"] as? String ?? ""), issues: issues)
        let context = ReportContext(runID: runID, toolVersion: Tool.version, inputs: inputs)
        html = HTMLReport.renderFailed(failure, asOf: asOf, context: context, templates: reporter.templates)
      } else {
        let xmlPath = dir + "/report.xml"
        if let problem = reporter.validator.checkXML(xmlPath) {
          console.err("error: \(problem)")
          throw Exit(status: .noInput)
        }
        guard let bytes = try? [UInt8](Data(contentsOf: URL(fileURLWithPath: xmlPath))) else {
          console.err("error: \(xmlPath): cannot read the report")
          throw Exit(status: .noInput)
        }
        do {
          let parsed = try XMLReportReader.read(bytes, path: xmlPath)
          html = HTMLReport.render(parsed.plan, context: parsed.context, templates: reporter.templates)
        } catch {
          console.err("error: \(error)")
          throw Exit(status: .dataError)
        }
      }
      let tmp = dir + "/.report.html.tmp"
      let final = dir + "/report.html"
      do throws(SendplanError) {
        try OutputFile.write(html, to: tmp, sync: true)
      } catch {
        console.err("error: \(tmp): cannot write: \(error.message)")
        throw Exit(status: .ioError)
      }
      if let problem = ReportValidator.checkWellFormed(tmp) {
        try? FS.removeTree(tmp)
        console.err("error: \(problem)")
        throw Exit(status: .software)
      }
      do throws(SendplanError) {
        // Synced file, rename, synced folder: a power cut leaves the old report or the new one.
        try FS.rename(tmp, final, faults: nil)
        try FS.syncDirectory(dir)
      } catch {
        console.err("error: \(final): cannot replace the report: \(error.message)")
        throw Exit(status: .ioError)
      }
      rendered += 1
    }
    console.out("sendplan: rendered \(rendered) report.html file(s) in \(out)")
  }
}
