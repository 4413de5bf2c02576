import ArgumentParser
import CSendplanSys
import Logging
import SendplanAudit
import SendplanEngine
import SendplanInput
import SendplanLogging
import SendplanModel
import SendplanOutput
import SendplanReport
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

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

  /// Sends this process SIGTERM once N tenants are done, so tests stop a run at a known point.
  @Option(name: .customLong("debug-sigterm-after"), help: .hidden)
  var debugSigtermAfter: Int?

  func validate() throws {
    if let asOf { _ = try parseAsOf(asOf) }
    if let runID { try checkRunID(runID) }
    if signingKey != nil && auditDir == nil { throw ValidationError("--signing-key needs --audit-dir") }
    if let shard, Shard(shard) == nil {
      throw ValidationError(
        "--shard \(shard.debugDescription) is not K/N with 0 <= K < N <= \(Shard.maxCount), such as 0/4")
    }
    if progressInterval < 0 { throw ValidationError("--progress-interval must be 0 or more seconds") }
    _ = try logOptions.redactor()
  }

  func run() throws {
    let console = Console.current
    let logger = try logOptions.logger(console: console, quiet: quiet)
    let start = monotonicSeconds()
    let stats = RunStats()
    var status = ExitStatus.success
    sendplan_stop_install()
    defer { sendplan_stop_restore() }
    do {
      try execute(logger: logger, console: console, stats: stats, start: start)
    } catch let e as Exit {
      status = e.status
    } catch {
      status = ExitStatus(rawValue: SendplanCommand.exitCode(for: error).rawValue) ?? .software
      logger.error("\(SendplanCommand.message(for: error))")
    }
    let seconds = monotonicSeconds() - start
    let done = stats.snapshot()
    logger.log(
      level: status == .success ? .info : .warning, "run finished with exit status \(status.rawValue)",
      metadata: [
        "exitStatus": .stringConvertible(Int(status.rawValue)), "seconds": .stringConvertible(rounded(seconds)),
        "tenantsPlanned": .stringConvertible(done.planned), "tenantsFailed": .stringConvertible(done.failed),
        "items": .stringConvertible(done.totals.items),
      ])
    if let metricsFile {
      do {
        try writeMetrics(metricsFile, stats: stats, status: status, seconds: seconds)
      } catch {
        logger.error("cannot write --metrics-file \(metricsFile): \(error)")
        if status == .success { status = .ioError }
      }
    }
    if status != .success { throw Exit(status: status) }
  }

  func execute(logger: Logger, console: Console, stats: RunStats, start: Double) throws {
    let asOfTime = try asOf.map(parseAsOf) ?? now()
    let id = runID ?? RunOptions.defaultRunID(asOf: asOfTime)
    let shardSpec = shard.flatMap(Shard.init)
    var runLogger = logger
    runLogger[metadataKey: "runId"] = .string(id)
    let log = runLogger
    // The lock comes first, so a second run is refused at once.
    var audit: AuditWriter?
    let faults = FaultPoints(killAt: debugKillAt, failAt: debugFailAt) { n, what in
      Console.current.err("sendplan: debug kill at step \(n) (\(what))")
      raise(SIGKILL)
    }
    if let auditDir {
      do throws(AuditError) {
        let key = try signingKey.map { k throws(AuditError) in try AuditKeys.loadPrivate(k) }
        audit = try AuditWriter(root: auditDir, runID: id, asOf: asOfTime, key: key, faults: faults, shard: shardSpec)
      } catch {
        log.error("\(error)")
        throw Exit(status: ExitStatus.of(error))
      }
    }
    let reporter = noReports ? nil : try loadReporter(templates, console: console)
    // The audit streams are read while the bundle is; `prepare` below then finds them in the page cache.
    let warming = audit?.startWarming()
    var bundle = try readBundle(inputOptions.input, logger: log)
    warming?.wait()
    let readDone = monotonicSeconds()
    let rows = bundle.inputs.reduce(0) { $0 + $1.rows }
    log.info(
      "read \(bundle.inputs.count) files, \(rows) rows, \(bundle.tenants.count) tenants in \(fmt(readDone - start))s",
      metadata: [
        "files": .stringConvertible(bundle.inputs.count), "rows": .stringConvertible(rows),
        "tenants": .stringConvertible(bundle.tenants.count),
      ])
    if let shardSpec {
      let all = bundle.tenants.count
      bundle.tenants = bundle.tenants.filter { shardSpec.contains($0.customerID) }
      log.info(
        "shard \(shardSpec.description): \(bundle.tenants.count) of \(all) tenants",
        metadata: ["shard": .string(shardSpec.description), "tenants": .stringConvertible(bundle.tenants.count)])
    }
    let options = RunOptions(out: out, asOf: asOfTime, runID: id, sync: !noFsync, shard: shardSpec)
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
    let summary = SummaryBox()
    var beforePublish: (([TenantOutcome]) throws -> Void)?
    if let audit {
      let sealedBefore = alreadySealed
      beforePublish = { _ in summary.value = try audit.commit(alreadySealed: sealedBefore) }
    }
    let context = ReportContext(runID: id, toolVersion: Tool.version, inputs: bundle.inputs.map(ReportInput.init))
    let signed = signingKey != nil
    let auditor = audit
    let enrollmentLevel: Logger.Level = quietEnrollments ? .debug : .info
    let progress = Progress(
      tenants: bundle.tenants, tty: console.stderrIsTTY && !quiet, interval: progressInterval, logger: log,
      console: console, start: monotonicSeconds())
    let sigtermAfter = debugSigtermAfter
    let afterTenant: @Sendable (TenantOutcome, TenantFiles) throws -> Void = { outcome, files in
      var ctx = context
      var appended: StreamOutcome?
      let auditStart = monotonicSeconds()
      if let auditor, let plan = outcome.plan, let s = try auditor.append(plan) {
        appended = s
        ctx.audit = AuditSeal(
          segment: s.segment, treeSize: s.treeSize, chainHead: s.chainHead, merkleRoot: s.merkleRoot, signed: signed)
      }
      let auditSeconds = appended == nil ? nil : monotonicSeconds() - auditStart
      if let reporter { try reporter.write(outcome, asOf: asOfTime, context: ctx, files: files) }
      RunCommand.logTenant(
        outcome, audit: appended, auditSeconds: auditSeconds, logger: log, enrollmentLevel: enrollmentLevel)
      let done = stats.record(outcome, audit: appended)
      progress.tenantDone(outcome)
      // Process-directed like a real `kill`: dispatch worker threads block signals, so raise() would not do.
      if let sigtermAfter, done == sigtermAfter { kill(getpid(), SIGTERM) }
    }
    let result: RunResult
    do {
      result = try RunWriter.run(
        bundle: bundle, options: options, refused: refused, afterTenant: afterTenant, beforePublish: beforePublish,
        shouldStop: { sendplan_stop_signal() != 0 }, clock: { monotonicSeconds() })
    } catch let error as OutputError {
      progress.finish()
      log.error("\(error)")
      throw Exit(status: ExitStatus.of(error))
    } catch let error as AuditError {
      progress.finish()
      log.error("audit: \(error)")
      log.error("the run was aborted; the audit trail is unsealed for this run and OUT is unchanged")
      throw Exit(status: ExitStatus.of(error))
    } catch let error as ReportError {
      progress.finish()
      log.error("report: \(error)")
      log.error("a report failed validation; the run was aborted and OUT is unchanged (exit 70)")
      throw Exit(status: .software)
    }
    progress.finish()
    if debugCountSteps { console.err("sendplan: debug: \(faults.steps) durability steps") }
    if result.stopped {
      var sealed = ""
      if let audit {
        do throws(AuditError) {
          let s = try audit.commit(alreadySealed: alreadySealed)
          sealed = "; the audit trail sealed this run for the \(s.streams.count) tenant(s) done"
        } catch {
          log.error("audit: \(error)")
          throw Exit(status: ExitStatus.of(error))
        }
      }
      log.warning(
        Logger.Message(
          stringLiteral:
            "stopped by signal \(sendplan_stop_signal()) after \(result.tenants.count) of \(bundle.tenants.count) tenants\(sealed); "
            + "OUT is unchanged. Re-run with --run-id \(id) to finish (exit 75)"),
        metadata: ["tenantsDone": .stringConvertible(result.tenants.count)])
      throw Exit(status: .tempFail)
    }
    if let s = summary.value {
      for n in s.notices { log.warning("audit: \(n)") }
      let sign = s.signed ? "signed" : "UNSIGNED (no --signing-key)"
      var line =
        "audit: appended \(s.eventsAppended) events to \(s.streams.count) stream(s) in \(auditDir ?? ""), seals \(sign)"
      if alreadySealed > 0 {
        line += "; run \(id) was already sealed for \(alreadySealed) tenant(s), left unchanged"
      }
      if s.streams.isEmpty && alreadySealed > 0 {
        line = "audit: run \(id) is already sealed for every tenant; nothing appended (no-op)"
      }
      log.log(
        level: s.notices.isEmpty ? .info : .warning, "\(line)",
        metadata: ["auditEvents": .stringConvertible(s.eventsAppended), "signed": .stringConvertible(s.signed)])
    }
    for t in result.tenants {
      if let f = t.failure { logIssues(f, logger: log) }
    }
    let failed = result.failedTenants
    let totals = stats.snapshot().totals
    let byStatus = ItemStatus.names.map { "\($0) \(totals.byStatus[$0] ?? 0)" }.joined(separator: ", ")
    log.info(
      Logger.Message(
        stringLiteral:
          "run \(id) as of \(asOfTime.rfc3339): \(result.tenants.count - failed) tenants planned, \(failed) failed; "
          + "\(totals.items) items (\(byStatus)) in \(fmt(monotonicSeconds() - start))s; wrote \(out)"))
    if failed > 0 {
      log.error("\(failed) tenant(s) failed; see the errors above and run.json (exit 1)")
      throw Exit(status: .tenantsFailed)
    }
  }

  /// One line per enrollment (the Stage 2A contract's dry-run log), one per item at debug, one per tenant.
  static func logTenant(
    _ outcome: TenantOutcome, audit: StreamOutcome?, auditSeconds: Double? = nil, logger: Logger,
    enrollmentLevel: Logger.Level
  ) {
    let customer = outcome.customerID.string
    guard let plan = outcome.plan else {
      logger.error(
        "tenant \(customer.debugDescription) failed with \(outcome.failure?.issues.count ?? 0) error(s)",
        metadata: ["customerId": .string(customer), "errors": .stringConvertible(outcome.failure?.issues.count ?? 0)])
      return
    }
    if logger.logLevel <= enrollmentLevel {
      let itemsAtDebug = logger.logLevel <= .debug
      for e in plan.enrollments {
        let c = PlanCounts.of(e.items)
        var m: Logger.Metadata = [
          "customerId": .string(customer), "enrollmentId": .string(e.enrollmentID.string),
          "items": .stringConvertible(c.items), "wouldSend": .stringConvertible(c.count(status: "WouldSend")),
          "skipped": .stringConvertible(c.count(status: "Skipped")),
          "failed": .stringConvertible(c.count(status: "FailedValidation")),
          "paused": .stringConvertible(c.count(status: "Paused")),
        ]
        if !e.errors.isEmpty { m["errors"] = .array(e.errors.map { .string($0.rawValue) }) }
        logger.log(level: enrollmentLevel, "dry run planned", metadata: m)
        guard itemsAtDebug else { continue }
        for item in e.items {
          let r = e.recipients[Int(item.recipient)]
          var im: Logger.Metadata = [
            "customerId": .string(customer), "enrollmentId": .string(e.enrollmentID.string),
            "recipientId": .string(r.id.string), "email": .string(r.email),
            "stepOrder": .stringConvertible(e.steps[Int(item.step)].order), "status": .string(item.status.name),
          ]
          if let reason = item.status.reason { im["reason"] = .string(reason) }
          logger.debug("item planned", metadata: im)
        }
      }
    }
    var m: Logger.Metadata = [
      "customerId": .string(customer), "enrollments": .stringConvertible(plan.enrollments.count),
      "items": .stringConvertible(plan.counts.items),
      "wouldSend": .stringConvertible(plan.counts.count(status: "WouldSend")),
      "skipped": .stringConvertible(plan.counts.count(status: "Skipped")),
      "failed": .stringConvertible(plan.counts.count(status: "FailedValidation")),
      "paused": .stringConvertible(plan.counts.count(status: "Paused")),
    ]
    if let s = outcome.seconds { m["seconds"] = .stringConvertible(rounded(s)) }
    if let audit { m["auditEvents"] = .stringConvertible(audit.eventsAppended) }
    if let auditSeconds { m["auditSeconds"] = .stringConvertible(rounded(auditSeconds)) }
    logger.info("tenant planned", metadata: m)
  }

  func writeMetrics(_ path: String, stats: RunStats, status: ExitStatus, seconds: Double) throws {
    let endedAt = Double(now().seconds)
    var lastSuccess: Double? = status == .success ? endedAt : nil
    if lastSuccess == nil, let old = WholeFile.text(path) {
      lastSuccess = RunMetrics.previousLastSuccess(old)
    }
    let bytes = RunMetrics.render(
      stats.snapshot(), status: status.rawValue, seconds: seconds, endedAt: endedAt, lastSuccess: lastSuccess)
    try AtomicFile.replace(path, with: bytes, tag: "\(getpid())")
  }
}

func rounded(_ seconds: Double) -> Double { (seconds * 1000).rounded() / 1000 }

func logIssues(_ failure: TenantFailure, logger: Logger) {
  for i in failure.issues {
    logger.error(
      "\(issueText(i, customer: failure.customerID))",
      metadata: [
        "customerId": .string(failure.customerID.string), "file": .string(i.file), "line": .stringConvertible(i.line),
        "code": .string(i.code),
      ])
  }
}

/// What the run has done so far, shared by the worker threads.
final class RunStats: @unchecked Sendable {
  struct Tenant: Sendable {
    var customerID: String
    var dryRuns: Int
    var auditEvents: Int?
    var auditBytes: Int64?
  }

  struct Snapshot: Sendable {
    var tenants: [Tenant]
    var planned: Int
    var failed: Int
    var totals: PlanCounts
  }

  private let state = Mutex(Snapshot(tenants: [], planned: 0, failed: 0, totals: PlanCounts()))

  /// Records a finished tenant; returns how many are done.
  func record(_ outcome: TenantOutcome, audit: StreamOutcome?) -> Int {
    state.withLock { s in
      if let plan = outcome.plan {
        s.planned += 1
        s.totals.merge(plan.counts)
        s.tenants.append(
          Tenant(
            customerID: outcome.customerID.string, dryRuns: plan.enrollments.count, auditEvents: audit?.eventsAppended,
            auditBytes: audit.flatMap { $0.streamBytes > 0 ? $0.streamBytes : nil }))
      } else {
        s.failed += 1
      }
      return s.planned + s.failed
    }
  }

  func snapshot() -> Snapshot { state.withLock { $0 } }
}

/// Progress: a bar on a terminal, else a log line every `interval` seconds.
final class Progress: @unchecked Sendable {
  private let weights: [ID: Int]
  private let totalWeight: Int
  private let totalTenants: Int
  private let tty: Bool
  private let interval: Double
  private let logger: Logger
  private let console: Console
  private let start: Double
  private struct State {
    var tenants = 0
    var weight = 0
    var items = 0
    var lastDraw = 0.0
    var lastLine = 0.0
    var drawn = false
  }
  private let state = Mutex(State())

  init(tenants: [TenantInput], tty: Bool, interval: Double, logger: Logger, console: Console, start: Double) {
    // A tenant's share of the work is about its recipients; empty tenants still count a little.
    var w: [ID: Int] = [:]
    for t in tenants { w[t.customerID] = t.recipients.count + 1 }
    weights = w
    totalWeight = max(1, w.values.reduce(0, +))
    totalTenants = tenants.count
    self.tty = tty
    self.interval = interval
    self.logger = logger
    self.console = console
    self.start = start
    state.withLock { $0.lastLine = start }
  }

  func tenantDone(_ outcome: TenantOutcome) {
    let t = monotonicSeconds()
    let w = weights[outcome.customerID] ?? 1
    let items = outcome.plan?.counts.items ?? 0
    let shown = state.withLock { s -> (line: String, log: Bool, tenants: Int, items: Int)? in
      s.tenants += 1
      s.weight += w
      s.items += items
      let elapsed = max(t - start, 0.001)
      let fraction = Double(s.weight) / Double(totalWeight)
      let rate = Double(s.items) / elapsed
      let eta = fraction > 0 ? elapsed * (1 - fraction) / fraction : 0
      if tty {
        guard t - s.lastDraw >= 0.1 || s.tenants == totalTenants else { return nil }
        s.lastDraw = t
        s.drawn = true
        let width = 24
        let filled = min(width, Int(fraction * Double(width)))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        return (
          "\rsendplan: [\(bar)] \(s.tenants)/\(totalTenants) tenants, \(Int(rate)) items/s, ETA \(Int(eta.rounded()))s"
            + " (\(finishClock(after: eta))) ",
          false, s.tenants, s.items
        )
      }
      guard interval > 0, t - s.lastLine >= interval else { return nil }
      s.lastLine = t
      return (
        "progress: \(s.tenants)/\(totalTenants) tenants, \(s.items) items, \(Int(rate)) items/s, about \(Int(eta.rounded()))s left",
        true, s.tenants, s.items
      )
    }
    guard let shown else { return }
    if shown.log {
      logger.info(
        "\(shown.line)",
        metadata: [
          "tenantsDone": .stringConvertible(shown.tenants), "tenantsTotal": .stringConvertible(totalTenants),
          "items": .stringConvertible(shown.items),
        ])
    } else {
      console.write(shown.line, toError: true)
    }
  }

  /// Ends the bar's line so the next log line starts clean.
  func finish() {
    let drawn = state.withLock { s -> Bool in
      defer { s.drawn = false }
      return s.drawn
    }
    if drawn { console.write("\n", toError: true) }
  }
}

/// The metrics file's content.
enum RunMetrics {
  static func render(
    _ s: RunStats.Snapshot, status: Int32, seconds: Double, endedAt: Double, lastSuccess: Double?
  ) -> [UInt8] {
    typealias S = MetricFamily.Sample
    var f: [MetricFamily] = [
      MetricFamily(
        name: "sendplan_run_exit_status", help: "Exit status of the last run (0 success; see the runbook).",
        samples: [S([:], Double(status))]),
      MetricFamily(
        name: "sendplan_run_duration_seconds", help: "Wall time of the last run.", samples: [S([:], seconds)]),
      MetricFamily(
        name: "sendplan_run_end_timestamp_seconds", help: "When the last run ended (Unix time).",
        samples: [S([:], endedAt)]),
    ]
    if let lastSuccess {
      f.append(
        MetricFamily(
          name: "sendplan_last_success_timestamp_seconds",
          help: "When a run last ended with exit status 0 (Unix time).",
          samples: [S([:], lastSuccess)]))
    }
    f.append(
      MetricFamily(
        name: "sendplan_tenants", help: "Tenants of the last run by outcome.",
        samples: [S(["state": "planned"], Double(s.planned)), S(["state": "failed"], Double(s.failed))]))
    f.append(
      MetricFamily(
        name: "sendplan_failed_tenants", help: "Tenants that failed with row errors in the last run.",
        samples: [S([:], Double(s.failed))]))
    f.append(
      MetricFamily(
        name: "sendplan_dry_runs", help: "Enrollment dry runs planned in the last run, per tenant.",
        samples: s.tenants.map { S(["customer_id": $0.customerID], Double($0.dryRuns)) }))
    f.append(
      MetricFamily(
        name: "sendplan_items", help: "Planned items of the last run by status.",
        samples: s.totals.byStatus.map { S(["status": $0.key], Double($0.value)) }))
    f.append(
      MetricFamily(
        name: "sendplan_skipped_items", help: "Skipped items of the last run by reason.",
        samples: s.totals.skippedByReason.map { S(["reason": $0.key], Double($0.value)) }))
    f.append(
      MetricFamily(
        name: "sendplan_failed_validation_items", help: "FailedValidation items of the last run by reason.",
        samples: s.totals.failedByReason.map { S(["reason": $0.key], Double($0.value)) }))
    f.append(
      MetricFamily(
        name: "sendplan_paused_items", help: "Paused items of the last run by reason.",
        samples: s.totals.pausedByReason.map { S(["reason": $0.key], Double($0.value)) }))
    let audited = s.tenants.filter { $0.auditEvents != nil }
    if !audited.isEmpty {
      f.append(
        MetricFamily(
          name: "sendplan_audit_entries_appended", help: "Audit entries appended by the last run, per tenant.",
          samples: audited.map { S(["customer_id": $0.customerID], Double($0.auditEvents ?? 0)) }))
      f.append(
        MetricFamily(
          name: "sendplan_audit_stream_bytes", help: "Size of each tenant's audit stream after the last run.",
          samples: audited.compactMap { t in t.auditBytes.map { S(["customer_id": t.customerID], Double($0)) } }))
    }
    return PrometheusText.render(f)
  }

  /// The last-success time recorded in a previous metrics file, so a failed run does not erase it.
  static func previousLastSuccess(_ text: String) -> Double? {
    for line in text.split(separator: "\n") where line.hasPrefix("sendplan_last_success_timestamp_seconds ") {
      return Double(line.split(separator: " ").last ?? "")
    }
    return nil
  }
}
