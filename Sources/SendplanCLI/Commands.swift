import ArgumentParser
import CSendplanSys
import Logging
import SendplanAudit
import SendplanDiagnostics
import SendplanEngine
import SendplanFileSystem
import SendplanInput
import SendplanModel
import SendplanReport
import SendplanRun
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// Raised by a command to end with a given status after it has printed what went wrong.
struct Exit: Error {
  let code: Int32
  init(status: ExitStatus) { code = status.rawValue }
  init(code: Int32) { self.code = code }
}

/// A command whose exit statuses are its own, not the table of ``ExitStatus`` (`diff` follows diff(1)).
protocol OwnExitCodes: ParsableCommand {
  /// The status for a command line that does not parse (ArgumentParser's own is 64).
  static func usageStatus(arguments: [String]) -> Int32
}

/// The `sendplan` command tree.
package struct SendplanCommand: ParsableCommand {
  package static let configuration = CommandConfiguration(
    commandName: "sendplan",
    abstract: "Dry-run planner for email sequences: who would get which step, who would not, and why.",
    discussion: ExitStatus.helpText,
    version: Tool.version,
    subcommands: [
      RunCommand.self, ValidateCommand.self, DiffCommand.self, AuditCommand.self, ReportCommand.self,
      CheckReportCommand.self, MergeManifestsCommand.self, ExplainCommand.self,
    ]
  )

  package init() {}

  /// Parses `arguments` (without the program name), runs the command and returns its exit status.
  package static func execute(_ arguments: [String]) -> Int32 {
    let console = Console.current
    tuneAllocator()
    do {
      var command = try parseAsRoot(arguments)
      try command.run()
      return 0
    } catch let e as Exit {
      return e.code
    } catch {
      let code = exitCode(for: error)
      let message = fullMessage(for: error)
      if !message.isEmpty {
        if code == .success {
          console.out(message)
        } else {
          console.err(message)
        }
      }
      if code == .success { return 0 }
      // A command with its own statuses says what a bad command line is; ArgumentParser's is 64.
      for case let command as any OwnExitCodes.Type in configuration.subcommands
      where arguments.first == command.configuration.commandName {
        return command.usageStatus(arguments: Array(arguments.dropFirst()))
      }
      return code.rawValue
    }
  }
}

/// Keeps large buffers in the heap instead of fresh mmaps, which would page-fault on every reuse.
func tuneAllocator() {
  sendplan_tune_malloc()
}

/// Options shared by commands that read a bundle.
struct InputOptions: ParsableArguments {
  @Option(name: .long, help: "The export bundle folder.")
  var input: String

  @Option(
    name: .customLong("max-record-bytes"),
    help: ArgumentHelp(
      "Largest CSV record, CSV field or JSONL line accepted, such as 64K or 4M (default: 1M, at most 1G);"
        + " a larger one is a structural error (exit 65).",
      valueName: "SIZE"))
  var maxRecordBytes: String?

  /// What the readers may hold of one record.
  var limits: ReadLimits {
    ReadLimits(maxRecordBytes: maxRecordBytes.flatMap(ReadLimits.parseRecordBytes) ?? ReadLimits.defaultMaxRecordBytes)
  }

  func validate() throws {
    if let maxRecordBytes, ReadLimits.parseRecordBytes(maxRecordBytes) == nil {
      throw ValidationError(
        "--max-record-bytes \(maxRecordBytes.debugDescription) is not a size from 1 to 1G, such as 64K or 4M")
    }
  }
}

/// Reads the bundle. On structural errors it hands `report` each error and then a summary (error nil),
/// and throws `Exit` with the matching status.
func readBundle(
  _ path: String, limits: ReadLimits = .default, digests: Bool = true, emails: Bool = true,
  report: (_ error: SendplanError?, _ message: String) -> Void
) throws -> ExportBundle {
  do {
    return try BundleReader.read(path: path, limits: limits, digests: digests, emails: emails)
  } catch {
    for e in error.errors { report(e, "\(e)") }
    let status = ExitStatus.of(error.errors)
    report(nil, "\(error.errors.count) input error(s); nothing was written (exit \(status.rawValue))")
    throw Exit(status: status)
  }
}

func readBundle(
  _ path: String, limits: ReadLimits = .default, digests: Bool = true, emails: Bool = true, console: Console
) throws -> ExportBundle {
  try readBundle(path, limits: limits, digests: digests, emails: emails) { e, m in
    console.err(e == nil ? "sendplan: " + m : "error: " + m)
  }
}

/// One row error as printed and logged: `file:line: message (tenant "c"; fix: …)`.
func issueText(_ i: RowIssue, customer: ID) -> String {
  "\(i.file)\(i.line > 0 ? ":\(i.line)" : ""): \(i.message) (tenant \(customer.string.debugDescription); fix: \(i.fix))"
}

func printIssues(_ failure: TenantFailure, console: Console) {
  for i in failure.issues { console.err("error: " + issueText(i, customer: failure.customerID)) }
}

/// Parses `--as-of`: RFC 3339, whole seconds only.
func parseAsOf(_ text: String) throws -> Timestamp {
  switch Timestamp.parseWholeSeconds(text) {
  case .time(let t): return t
  case .notRFC3339:
    throw ValidationError("--as-of \(text.debugDescription) is not an RFC 3339 timestamp such as 2026-11-27T02:00:00Z")
  case .hasFraction:
    throw ValidationError("--as-of takes whole seconds; drop the fraction from \(text.debugDescription)")
  }
}

/// Current UTC time in whole seconds; the only place sendplan reads the clock.
func now() -> Timestamp {
  var ts = timespec()
  clock_gettime(CLOCK_REALTIME, &ts)
  return Timestamp(seconds: Int64(ts.tv_sec))
}

/// Now, UTC, RFC 3339 with milliseconds: log timestamps only, never outputs.
func wallClockRFC3339() -> String {
  var ts = timespec()
  clock_gettime(CLOCK_REALTIME, &ts)
  let base = Timestamp(seconds: Int64(ts.tv_sec)).rfc3339
  let ms = Int(ts.tv_nsec / 1_000_000)
  let frac = ms < 10 ? "00\(ms)" : ms < 100 ? "0\(ms)" : "\(ms)"
  return String(base.dropLast()) + "." + frac + "Z"
}

/// The UTC wall-clock time `seconds` from now, as `HH:MM:SSZ`, for the progress bar's finish estimate.
func finishClock(after seconds: Double) -> String {
  var ts = timespec()
  clock_gettime(CLOCK_REALTIME, &ts)
  let t = Timestamp(seconds: Int64(ts.tv_sec) + Int64(seconds.isFinite ? seconds.rounded() : 0)).rfc3339
  return String(t.dropFirst(11))
}

func monotonicSeconds() -> Double {
  var ts = timespec()
  clock_gettime(CLOCK_MONOTONIC, &ts)
  return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Checks a user-supplied run id: 1 to 128 of `A-Z a-z 0-9 . _ -`, not starting with a dot.
func checkRunID(_ id: String) throws {
  let ok =
    !id.isEmpty && id.utf8.count <= 128 && !id.hasPrefix(".")
    && id.utf8.allSatisfy { b in
      (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2E || b == 0x5F
        || b == 0x2D
    }
  guard ok else {
    throw ValidationError(
      "--run-id must be 1 to 128 characters of A-Z, a-z, 0-9, '.', '_' or '-', not starting with '.'")
  }
}

/// The report templates, or exit 66 with the reason.
func loadReporter(_ dir: String?, console: Console) throws -> Reporter {
  do throws(SendplanError) {
    return try Reporter.load(templatesDir: dir)
  } catch {
    console.err("error: \(error)")
    throw Exit(status: .noInput)
  }
}

func fmt(_ seconds: Double) -> String {
  let ms = Int((seconds * 1000).rounded())
  let frac = ms % 1000
  return "\(ms / 1000)." + (frac < 10 ? "00" : frac < 100 ? "0" : "") + String(frac)
}

/// The bundle the last `validate` read, kept so that the process exit, not `free`, reclaims it.
private let finishedBundle = Mutex<ExportBundle?>(nil)

struct ValidateCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "validate",
    abstract: "Check a bundle without planning or writing anything; print every problem found.",
    discussion: ExitStatus.helpText
  )

  @OptionGroup var inputOptions: InputOptions

  func run() throws {
    let console = Console.current
    // No digests and no addresses: validate prints no digest and no check of its reads an
    // address (only that it is there); hashing was a tenth of its work, addresses a fifth of its memory.
    let bundle = try readBundle(
      inputOptions.input, limits: inputOptions.limits, digests: false, emails: false, console: console)
    // Left for the process exit to reclaim: freeing millions of rows one by one took longer than
    // checking them (docs/decisions.md, "A fast reader").
    defer { finishedBundle.withLock { $0 = bundle } }
    var failed = 0
    for (t, issues) in zip(bundle.tenants, Planner.issues(ofEach: bundle.tenants)) where !issues.isEmpty {
      failed += 1
      printIssues(TenantFailure(customerID: t.customerID, issues: issues), console: console)
    }
    let rows = bundle.inputs.reduce(0) { $0 + $1.rows }
    console.out(
      "sendplan: \(bundle.inputs.count) files, \(rows) rows, \(bundle.tenants.count) tenants; \(failed) tenant(s) with row errors"
    )
    if failed > 0 { throw Exit(status: .tenantsFailed) }
  }
}
