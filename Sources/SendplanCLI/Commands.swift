import ArgumentParser
import CSendplanSys
import SendplanAudit
import SendplanEngine
import SendplanInput
import SendplanModel
import SendplanOutput
import SendplanReport

#if canImport(Glibc)
  import Glibc
#endif

/// Raised by a command to end with a given status after it has printed what went wrong.
struct Exit: Error {
  let status: ExitStatus
}

/// The `sendplan` command tree.
public struct SendplanCommand: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "sendplan",
    abstract: "Dry-run planner for email sequences: who would get which step, who would not, and why.",
    discussion: ExitStatus.helpText,
    version: Tool.version,
    subcommands: [
      RunCommand.self, ValidateCommand.self, DiffCommand.self, AuditCommand.self, ReportCommand.self,
      CheckReportCommand.self,
    ]
  )

  public init() {}

  /// Parses `arguments` (without the program name), runs the command and returns its exit status.
  public static func execute(_ arguments: [String]) -> Int32 {
    let console = Console.current
    tuneAllocator()
    do {
      var command = try parseAsRoot(arguments)
      try command.run()
      return 0
    } catch let e as Exit {
      return e.status.rawValue
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
      // diff follows diff(1): trouble, including a bad command line, is 2 (1 with --detailed-exitcode).
      if arguments.first == "diff" {
        return arguments.contains("--detailed-exitcode") ? 1 : 2
      }
      // ArgumentParser reports usage problems as 64 already.
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
}

/// Reads the bundle, printing every structural error; throws `Exit` when there is one.
func readBundle(_ path: String, console: Console) throws -> ExportBundle {
  do {
    return try BundleReader.read(path: path)
  } catch {
    for e in error.errors { console.err("error: \(e)") }
    let status = ExitStatus.of(error)
    console.err("sendplan: \(error.errors.count) input error(s); nothing was written (exit \(status.rawValue))")
    throw Exit(status: status)
  }
}

func printIssues(_ failure: TenantFailure, console: Console) {
  for i in failure.issues {
    console.err(
      "error: \(i.file)\(i.line > 0 ? ":\(i.line)" : ""): \(i.message) (tenant \(failure.customerID.string.debugDescription); fix: \(i.fix))"
    )
  }
}

/// Parses `--as-of`: RFC 3339, whole seconds only.
func parseAsOf(_ text: String) throws -> Timestamp {
  guard let t = Timestamp.parse(text) else {
    throw ValidationError("--as-of \(text.debugDescription) is not an RFC 3339 timestamp such as 2026-11-27T02:00:00Z")
  }
  guard !text.contains("."), t.nanos == 0, !t.subNanoRemainder else {
    throw ValidationError("--as-of takes whole seconds; drop the fraction from \(text.debugDescription)")
  }
  return Timestamp(seconds: t.seconds)
}

/// Current UTC time in whole seconds; the only place sendplan reads the clock.
func now() -> Timestamp {
  var ts = timespec()
  clock_gettime(CLOCK_REALTIME, &ts)
  return Timestamp(seconds: Int64(ts.tv_sec))
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

struct RunCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "run",
    abstract: "Plan every enrollment of every tenant and write OUT (run.json and one folder per tenant).",
    discussion: ExitStatus.helpText
  )

  @OptionGroup var inputOptions: InputOptions

  @Option(name: .long, help: "The output folder. It is replaced atomically when the run completes.")
  var out: String

  @Option(name: .customLong("as-of"), help: "Reference time, RFC 3339 in whole seconds (default: now, UTC).")
  var asOf: String?

  @Option(name: .customLong("run-id"), help: "Run id (default: run-YYYYMMDDTHHMMSSZ from --as-of).")
  var runID: String?

  @Flag(name: .customLong("no-fsync"), help: "Skip fsync of output files (faster; not crash-safe).")
  var noFsync = false

  @Flag(name: .long, help: "Print only errors.")
  var quiet = false

  @Option(
    name: .customLong("audit-dir"),
    help: "Append every planned tenant's events to its tamper-evident audit stream in this folder.")
  var auditDir: String?

  @Option(
    name: .customLong("signing-key"),
    help: "Ed25519 key (from `sendplan audit keygen`) that signs each checkpoint; without it seals are unsigned.")
  var signingKey: String?

  @Option(
    name: .long,
    help: "Folder with report.html.mustache and/or report.xsd to use instead of the built-in templates.")
  var templates: String?

  @Flag(name: .customLong("no-reports"), help: "Skip report.html and report.xml (for throwaway or benchmark runs).")
  var noReports = false

  @Option(name: .customLong("debug-kill-at"), help: .hidden)
  var debugKillAt: Int?

  @Option(name: .customLong("debug-fail-at"), help: .hidden)
  var debugFailAt: Int?

  @Flag(name: .customLong("debug-count-steps"), help: .hidden)
  var debugCountSteps = false

  func validate() throws {
    if let asOf { _ = try parseAsOf(asOf) }
    if let runID { try checkRunID(runID) }
    if signingKey != nil && auditDir == nil { throw ValidationError("--signing-key needs --audit-dir") }
  }

  func run() throws {
    let console = Console.current
    let asOfTime = try asOf.map(parseAsOf) ?? now()
    let id = runID ?? RunOptions.defaultRunID(asOf: asOfTime)
    let start = monotonicSeconds()
    // The lock comes first, so a second run is refused at once.
    var audit: AuditWriter?
    let faults = FaultPoints(killAt: debugKillAt, failAt: debugFailAt) { n, what in
      Console.current.err("sendplan: debug kill at step \(n) (\(what))")
      raise(SIGKILL)
    }
    if let auditDir {
      do throws(AuditError) {
        let key = try signingKey.map { k throws(AuditError) in try AuditKeys.loadPrivate(k) }
        audit = try AuditWriter(root: auditDir, runID: id, asOf: asOfTime, key: key, faults: faults)
      } catch {
        console.err("error: \(error)")
        throw Exit(status: ExitStatus.of(error))
      }
    }
    let reporter = noReports ? nil : try loadReporter(templates, console: console)
    let bundle = try readBundle(inputOptions.input, console: console)
    let readDone = monotonicSeconds()
    if !quiet {
      let rows = bundle.inputs.reduce(0) { $0 + $1.rows }
      console.err(
        "sendplan: read \(bundle.inputs.count) files, \(rows) rows, \(bundle.tenants.count) tenants in \(fmt(readDone - start))s"
      )
    }
    let tty = console.stderrIsTTY && !quiet
    let options = RunOptions(out: out, asOf: asOfTime, runID: id, sync: !noFsync)
    var refused: [ID: [RowIssue]] = [:]
    var alreadySealed = 0
    if let audit {
      let preps = audit.prepare(bundle.tenants.map(\.customerID))
      for (t, p) in zip(bundle.tenants, preps) {
        switch p {
        case .ready: break
        case .alreadySealed: alreadySealed += 1
        case .refused(let e):
          refused[t.customerID] = [RowIssue(file: e.path, line: e.line, code: e.code, message: e.message, fix: e.fix)]
        }
      }
    }
    let result: RunResult
    let summary = SummaryBox()
    var beforePublish: (([TenantOutcome]) throws -> Void)?
    if let audit {
      let sealedBefore = alreadySealed
      beforePublish = { _ in summary.value = try audit.commit(alreadySealed: sealedBefore) }
    }
    let context = ReportContext(runID: id, toolVersion: Tool.version, inputs: bundle.inputs.map(ReportInput.init))
    let signed = signingKey != nil
    let auditor = audit
    let afterTenant: @Sendable (TenantOutcome, TenantFiles) throws -> Void = { outcome, files in
      var ctx = context
      if let auditor, let plan = outcome.plan, let s = try auditor.append(plan) {
        ctx.audit = AuditSeal(
          segment: s.segment, treeSize: s.treeSize, chainHead: s.chainHead, merkleRoot: s.merkleRoot, signed: signed)
      }
      if let reporter { try reporter.write(outcome, asOf: asOfTime, context: ctx, files: files) }
    }
    do {
      result = try RunWriter.run(
        bundle: bundle, options: options, refused: refused, afterTenant: afterTenant, beforePublish: beforePublish
      ) { done, total in
        if tty && (done == total || done % max(1, total / 100) == 0) {
          console.write("\rsendplan: planned \(done)/\(total) tenants", toError: true)
          if done == total { console.write("\n", toError: true) }
        }
      }
    } catch let error as OutputError {
      console.err("error: \(error)")
      throw Exit(status: ExitStatus.of(error))
    } catch let error as AuditError {
      console.err("error: audit: \(error)")
      console.err("sendplan: the run was aborted; the audit trail is unsealed for this run and OUT is unchanged")
      throw Exit(status: ExitStatus.of(error))
    } catch let error as ReportError {
      console.err("error: report: \(error)")
      console.err("sendplan: a report failed validation; the run was aborted and OUT is unchanged (exit 70)")
      throw Exit(status: .software)
    }
    if debugCountSteps { console.err("sendplan: debug: \(faults.steps) durability steps") }
    if let s = summary.value {
      for n in s.notices { console.err("audit: \(n)") }
      if !quiet || !s.notices.isEmpty {
        let sign = s.signed ? "signed" : "UNSIGNED (no --signing-key)"
        var line =
          "audit: appended \(s.eventsAppended) events to \(s.streams.count) stream(s) in \(auditDir ?? ""), seals \(sign)"
        if alreadySealed > 0 {
          line += "; run \(id) was already sealed for \(alreadySealed) tenant(s), left unchanged"
        }
        if s.streams.isEmpty && alreadySealed > 0 {
          line = "audit: run \(id) is already sealed for every tenant; nothing appended (no-op)"
        }
        console.err(line)
      }
    }
    for t in result.tenants {
      if let f = t.failure { printIssues(f, console: console) }
    }
    let failed = result.failedTenants
    if !quiet {
      var totals = PlanCounts()
      for t in result.tenants { if let p = t.plan { totals.merge(p.counts) } }
      let byStatus = ItemStatus.names.map { "\($0) \(totals.byStatus[$0] ?? 0)" }.joined(separator: ", ")
      console.err(
        "sendplan: run \(id) as of \(asOfTime.rfc3339): \(result.tenants.count - failed) tenants planned, \(failed) failed; "
          + "\(totals.items) items (\(byStatus)) in \(fmt(monotonicSeconds() - start))s; wrote \(out)")
    }
    if failed > 0 {
      console.err("sendplan: \(failed) tenant(s) failed; see the errors above and run.json (exit 1)")
      throw Exit(status: .tenantsFailed)
    }
  }
}

/// The built-in templates, or those of `dir` where it has them.
func loadReporter(_ dir: String?, console: Console) throws -> Reporter {
  do throws(ReportError) {
    var files: [String: String] = [:]
    if let dir {
      for name in ["report.html.mustache", "report.xsd"] {
        if let text = readText(dir + "/" + name) { files[name] = text }
      }
      guard !files.isEmpty else {
        throw ReportError(
          code: "templates_missing", path: dir, message: "the folder holds neither report.html.mustache nor report.xsd",
          fix: "point --templates at a copy of the repository's templates/ folder")
      }
    }
    let merged = ReportTemplates.defaultFiles.merging(files) { _, mine in mine }
    return try Reporter(templates: ReportTemplates(files: merged, origin: dir ?? "built-in templates"))
  } catch {
    console.err("error: \(error)")
    throw Exit(status: .noInput)
  }
}

/// A whole text file, or nil when it cannot be read.
func readText(_ path: String) -> String? {
  guard let f = fopen(path, "rb") else { return nil }
  defer { fclose(f) }
  var out: [UInt8] = []
  var buf = [UInt8](repeating: 0, count: 65536)
  while true {
    let n = fread(&buf, 1, buf.count, f)
    if n > 0 { out.append(contentsOf: buf[0..<n]) }
    if n < buf.count { break }
  }
  return String(validating: out, as: UTF8.self)
}

/// Carries the audit summary out of the publish hook.
final class SummaryBox: @unchecked Sendable {
  var value: AuditSummary?
}

func fmt(_ seconds: Double) -> String {
  let ms = Int((seconds * 1000).rounded())
  let frac = ms % 1000
  return "\(ms / 1000)." + (frac < 10 ? "00" : frac < 100 ? "0" : "") + String(frac)
}

struct ValidateCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "validate",
    abstract: "Check a bundle without planning or writing anything; print every problem found.",
    discussion: ExitStatus.helpText
  )

  @OptionGroup var inputOptions: InputOptions

  func run() throws {
    let console = Console.current
    let bundle = try readBundle(inputOptions.input, console: console)
    var failed = 0
    for t in bundle.tenants {
      let issues = Planner.issues(of: t)
      if !issues.isEmpty {
        failed += 1
        printIssues(TenantFailure(customerID: t.customerID, issues: issues), console: console)
      }
    }
    let rows = bundle.inputs.reduce(0) { $0 + $1.rows }
    console.out(
      "sendplan: \(bundle.inputs.count) files, \(rows) rows, \(bundle.tenants.count) tenants; \(failed) tenant(s) with row errors"
    )
    if failed > 0 { throw Exit(status: .tenantsFailed) }
  }
}
