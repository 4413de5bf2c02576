import ArgumentParser
import SendplanFileSystem
import SendplanReport

#if canImport(Glibc)
  import Glibc
#endif

struct CheckReportCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "check-report",
    abstract: "Validate report files: .xml against report.xsd, anything else as well-formed XHTML.",
    discussion: """
      Uses libxml2 in process with network access, DTD loading and entity substitution off.
      Prints one line per file. Exits 0 when every file is valid, 1 when one is not, 66 when one is missing.
      """
  )

  /// The statuses of `check-report`, independent of the run's table.
  enum Status: Int32 {
    case allValid = 0
    case someInvalid = 1
    case badSchema = 65
    case unreadable = 66
  }

  @Argument(help: "Report files (report.xml, report.html).")
  var files: [String]

  @Option(
    name: .long,
    help:
      "The schema to check XML against (default: the built-in report.xsd, or report-v1.xsd for files in format version 1)."
  )
  var schema: String?

  func run() throws {
    let console = Console.current
    let xsd: String
    if let schema {
      guard let text = WholeFile.text(schema) else {
        console.err("error: \(schema): cannot read the schema (fix: pass an existing report.xsd)")
        throw Exit(code: Status.unreadable.rawValue)
      }
      xsd = text
    } else {
      xsd = ReportTemplates.defaultFiles["report.xsd"] ?? ""
    }
    let validator: ReportValidator
    do {
      // With --schema, every file is checked against that schema alone.
      let legacy = schema == nil ? ReportTemplates.defaultFiles["report-v1.xsd"] : nil
      validator = try ReportValidator(xsd: xsd, legacyXSD: legacy, path: schema ?? "built-in report.xsd")
    } catch {
      console.err("error: \(error)")
      throw Exit(code: Status.badSchema.rawValue)
    }
    var bad = 0
    var missing = 0
    for f in files {
      guard WholeFile.text(f) != nil || access(f, R_OK) == 0 else {
        console.err("error: \(f): cannot read the file")
        missing += 1
        continue
      }
      let problem = f.hasSuffix(".xml") ? validator.checkXML(f) : ReportValidator.checkWellFormed(f)
      if let problem {
        console.out("FAIL \(problem.location?.description ?? f): \(problem.message)")
        bad += 1
      } else {
        console.out("ok   \(f)")
      }
    }
    if missing > 0 { throw Exit(code: Status.unreadable.rawValue) }
    if bad > 0 { throw Exit(code: Status.someInvalid.rawValue) }
  }
}
