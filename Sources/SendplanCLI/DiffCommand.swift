import ArgumentParser
import SendplanDiagnostics
import SendplanDiff

struct DiffCommand: OwnExitCodes {
  static let configuration = CommandConfiguration(
    commandName: "diff",
    abstract: "Compare the planned sends of two runs (OUT folders or dry-runs.jsonl files).",
    discussion: """
      Items are keyed by (customer id, enrollment id, step order, recipient id) and reported as
      add, remove or change (status, reason, templateId, identityId). Enrollment error changes and
      tenants that appear, disappear or switch between planned and failed are reported too.
      plannedAt, runId and the tool version are shown in the header and otherwise ignored.

      EXIT CODES (default, like diff and kubectl diff):
        0  no changes
        1  changes found
        2  trouble: unreadable, corrupt or truncated input, or a bad command line
      EXIT CODES with --detailed-exitcode (like terraform plan):
        0  no changes
        1  trouble
        2  changes found
      """
  )

  @Argument(help: "The earlier run: an OUT folder or a dry-runs.jsonl file.")
  var old: String

  @Argument(help: "The later run: an OUT folder or a dry-runs.jsonl file.")
  var new: String

  @Option(help: "Output format: text, json or markdown.")
  var format: String = "text"

  @Option(
    name: .customLong("filter"),
    help: "Narrow the output: tenant=ID, enrollment=ID, status=STATUS or action=add|change|remove (repeatable).")
  var filters: [String] = []

  @Option(name: .customLong("max-lines"), help: "Markdown only: list at most this many changes.")
  var maxLines: Int = 200

  @Flag(name: .customLong("detailed-exitcode"), help: "Exit 2 for changes and 1 for trouble, like terraform plan.")
  var detailedExitcode = false

  /// What a diff ends with; its exit status depends on the scheme.
  enum Outcome {
    case noChanges, changes, trouble

    /// diff(1) by default (1 changes, 2 trouble); terraform's with `--detailed-exitcode` (2 changes, 1 trouble).
    func status(detailed: Bool) -> Int32 {
      switch self {
      case .noChanges: return 0
      case .changes: return detailed ? 2 : 1
      case .trouble: return detailed ? 1 : 2
      }
    }
  }

  /// A bad command line is trouble.
  static func usageStatus(arguments: [String]) -> Int32 {
    Outcome.trouble.status(detailed: arguments.contains("--detailed-exitcode"))
  }

  func validate() throws {
    guard DiffFormat(rawValue: format) != nil else { throw ValidationError("--format must be text, json or markdown") }
    guard maxLines >= 0 else { throw ValidationError("--max-lines must be 0 or more") }
    var f = DiffFilter()
    for term in filters where !f.add(term) {
      throw ValidationError(
        "--filter \(term.debugDescription) must be tenant=, enrollment=, status= or action=add|change|remove")
    }
  }

  func run() throws {
    let console = Console.current
    var filter = DiffFilter()
    for term in filters { _ = filter.add(term) }
    let result: DiffResult
    do throws(SendplanError) {
      result = try Differ.diff(old: old, new: new, filter: filter)
    } catch {
      console.err("error: \(error)")
      throw Exit(code: Outcome.trouble.status(detailed: detailedExitcode))
    }
    let fmt = DiffFormat(rawValue: format) ?? .text
    console.write(DiffRenderer.render(result, format: fmt, maxLines: maxLines), toError: false)
    if result.summary.suppressedWouldSend > 0 {
      console.err(
        "sendplan diff: ALERT: \(result.summary.suppressedWouldSend) WouldSend item(s) use a suppressed address")
    }
    if result.summary.hasChanges {
      throw Exit(code: Outcome.changes.status(detailed: detailedExitcode))
    }
  }
}
