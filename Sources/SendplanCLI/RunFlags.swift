import ArgumentParser
import SendplanFileSystem
import SendplanInput
import SendplanModel
import SendplanRun

/// The flags of `sendplan run`.
struct RunFlags: ParsableArguments {
  @OptionGroup var inputOptions: InputOptions

  @Option(name: .long, help: "The output folder. It is replaced atomically when the run completes.")
  var out: String

  @Option(name: .customLong("as-of"), help: "Reference time, RFC 3339 in whole seconds (default: now, UTC).")
  var asOf: String?

  @Option(name: .customLong("run-id"), help: "Run id (default: run-YYYYMMDDTHHMMSSZ from --as-of).")
  var runID: String?

  @Flag(name: .customLong("no-fsync"), help: "Skip fsync of output files (faster; not crash-safe).")
  var noFsync = false

  @Flag(name: .long, help: "Log only warnings and errors (same as --log-level warning).")
  var quiet = false

  @OptionGroup var logOptions: LogOptions

  @Flag(
    name: .customLong("quiet-enrollments"),
    help: "Log each enrollment's outcome at debug instead of info (one line per enrollment).")
  var quietEnrollments = false

  @Option(
    name: .customLong("metrics-file"),
    help: "Write Prometheus metrics here (textfile collector format), replaced atomically, on every exit.")
  var metricsFile: String?

  @Option(
    name: .customLong("progress-interval"),
    help: "Seconds between progress log lines when stderr is not a terminal (0: none).")
  var progressInterval: Double = 60

  @Option(
    name: .long,
    help: "Plan only shard K of N (0 <= K < N): the tenants whose customer-id hash modulo N is K.")
  var shard: String?

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

  /// Records every file-system effect to FILE (and FILE.data) for the power-loss test.
  @Option(name: .customLong("debug-fs-journal"), help: .hidden)
  var debugFSJournal: String?

  /// With --debug-fs-journal: leaves out the N-th sync, as if that fsync had been removed from the code.
  @Option(name: .customLong("debug-skip-sync"), help: .hidden)
  var debugSkipSync: Int?

  /// Sends this process SIGTERM once N tenants are done, so tests stop a run at a known point.
  @Option(name: .customLong("debug-sigterm-after"), help: .hidden)
  var debugSigtermAfter: Int?

  @Option(
    name: .customLong("memory-limit"),
    help: ArgumentHelp(
      "Memory the bundle's rows may take at once, such as 512M or 4G, or none (default: 1G). A larger bundle is"
        + " read and planned in partitions of tenants, one at a time; outputs are the same whatever the limit.",
      valueName: "SIZE"))
  var memoryLimit: String = "1G"

  /// `--memory-limit` in bytes; nil for none.
  var memoryLimitBytes: Int? { RunFlags.parseSize(memoryLimit) ?? nil }

  /// `123`, `512K`, `512M`, `4G` (also `KiB`, `MiB`, `GiB`; powers of 1024) or `none`. Nil when malformed.
  static func parseSize(_ text: String) -> Int?? {
    if text == "none" { return .some(nil) }
    var digits = Substring(text)
    var unit = 1
    for (suffix, scale) in [
      ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30),
    ]
    where digits.hasSuffix(suffix) {
      digits = digits.dropLast(suffix.count)
      unit = scale
      break
    }
    guard !digits.isEmpty, digits.count <= 12, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(digits),
      n > 0
    else { return nil }
    // Twelve digits times GiB passes Int.max: such a size is refused, not trapped on.
    let (bytes, overflow) = n.multipliedReportingOverflow(by: unit)
    return overflow ? nil : .some(bytes)
  }

  /// What the library needs of these flags.
  func options(asOf: Timestamp, runID: String, faults: FaultPoints?) -> RunOptions {
    var o = RunOptions(
      input: inputOptions.input, out: out, asOf: asOf, runID: runID, sync: !noFsync, shard: shard.flatMap(Shard.init),
      auditDir: auditDir, signingKeyPath: signingKey, reports: !noReports, templatesDir: templates,
      faults: faults, memoryLimit: memoryLimitBytes)
    o.readLimits = inputOptions.limits
    return o
  }

  func validate() throws {
    if let asOf { _ = try parseAsOf(asOf) }
    if let runID { try checkRunID(runID) }
    if signingKey != nil && auditDir == nil { throw ValidationError("--signing-key needs --audit-dir") }
    if let shard, Shard(shard) == nil {
      throw ValidationError(
        "--shard \(shard.debugDescription) is not K/N with 0 <= K < N <= \(Shard.maxCount), such as 0/4")
    }
    if RunFlags.parseSize(memoryLimit) == nil {
      throw ValidationError("--memory-limit \(memoryLimit.debugDescription) is not a size such as 512M, 4G or none")
    }
    if progressInterval < 0 { throw ValidationError("--progress-interval must be 0 or more seconds") }
    _ = try logOptions.redactor()
  }
}
