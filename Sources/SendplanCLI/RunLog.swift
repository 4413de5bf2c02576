import Logging
import SendplanAudit
import SendplanDiagnostics
import SendplanEngine
import SendplanFileSystem
import SendplanModel
import SendplanRun
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// The CLI's observer of a run: log lines, the progress bar or progress lines, and the counts the
/// metrics file is made from.
final class RunLog: RunObserver, @unchecked Sendable {
  let log: Logger
  let console: Console
  let stats = RunStats()
  let enrollmentLevel: Logger.Level
  let showBar: Bool
  let progressInterval: Double
  let runID: String
  let auditDir: String?
  /// Sends this process SIGTERM once this many tenants are done (tests only).
  let sigtermAfter: Int?
  private let progress = Mutex<Progress?>(nil)
  /// Partitions planned so far, of how many.
  private let partitions = Mutex<(done: Int, count: Int)>((0, 1))
  /// The stage that failed, when one did.
  let failedStage = Mutex<RunStage?>(nil)

  init(flags: RunFlags, logger: Logger, console: Console, runID: String) {
    var l = logger
    l[metadataKey: "runId"] = .string(runID)
    log = l
    self.console = console
    enrollmentLevel = flags.quietEnrollments ? .debug : .info
    showBar = console.stderrIsTTY && !flags.quiet
    progressInterval = flags.progressInterval
    self.runID = runID
    auditDir = flags.auditDir
    sigtermAfter = flags.debugSigtermAfter
  }

  func observe(_ event: RunEvent) {
    switch event {
    case .bundleRead(let files, let rows, let tenants, let seconds):
      log.info(
        "read \(files) files, \(rows) rows, \(tenants) tenants in \(fmt(seconds))s",
        metadata: [
          "files": .stringConvertible(files), "rows": .stringConvertible(rows), "tenants": .stringConvertible(tenants),
        ])
    case .shardSelected(let shard, let tenants, let all):
      log.info(
        "shard \(shard.description): \(tenants) of \(all) tenants",
        metadata: ["shard": .string(shard.description), "tenants": .stringConvertible(tenants)])
    case .partitioned(let count, let estimated, let limit):
      log.info(
        Logger.Message(
          stringLiteral: "the bundle needs about \(mebibytes(estimated)) MiB of memory, over the limit of "
            + "\(mebibytes(limit)) MiB; planning it in \(count) partitions of tenants, one at a time"),
        metadata: ["partitions": .stringConvertible(count), "estimatedMiB": .stringConvertible(mebibytes(estimated))])
      partitions.withLock { $0 = (0, count) }
    case .tenantOverLimit(let id, let estimated, let limit):
      log.warning(
        Logger.Message(
          stringLiteral: "tenant \(id.string.debugDescription) alone needs about \(mebibytes(estimated)) MiB, over the "
            + "memory limit of \(mebibytes(limit)) MiB; it is planned anyway and the run will use about that much"),
        metadata: ["customerId": .string(id.string), "estimatedMiB": .stringConvertible(mebibytes(estimated))])
    case .planning(let weights):
      finishProgress()
      let part = partitions.withLock { p -> (Int, Int) in
        p.done += 1
        return p
      }
      if part.1 > 1 {
        log.info(
          "partition \(part.0) of \(part.1): \(weights.count) tenants",
          metadata: ["partition": .stringConvertible(part.0), "tenants": .stringConvertible(weights.count)])
      }
      let p = Progress(
        weights: weights, tty: showBar, interval: progressInterval, logger: log, console: console,
        start: monotonicSeconds())
      progress.withLock { $0 = p }
    case .tenantFinished(let outcome):
      RunLog.logTenant(outcome, logger: log, enrollmentLevel: enrollmentLevel)
      let done = stats.record(outcome)
      progress.withLock { $0 }?.tenantDone(outcome)
      // Process-directed like a real `kill`: dispatch worker threads block signals, so raise() would not do.
      if let sigtermAfter, done == sigtermAfter { kill(getpid(), SIGTERM) }
    case .auditSealed(let s, let alreadySealed):
      // The power-loss test counts the events sealed before this mark as committed.
      CrashJournal.current?.mark("audit-sealed")
      finishProgress()
      logAudit(s, alreadySealed: alreadySealed)
    case .stopped(let done, let total, let sealed):
      finishProgress()
      let note = sealed.map { "; the audit trail sealed this run for the \($0.streams.count) tenant(s) done" } ?? ""
      log.warning(
        Logger.Message(
          stringLiteral:
            "stopped by signal \(StopSignal.received) after \(done) of \(total) tenants\(note); "
            + "OUT is unchanged. Re-run with --run-id \(runID) to finish (exit 75)"),
        metadata: ["tenantsDone": .stringConvertible(done)])
    case .stageFailed(let stage, let errors):
      finishProgress()
      failedStage.withLock { $0 = stage }
      logFailure(stage, errors)
    case .published:
      CrashJournal.current?.mark("published")
      finishProgress()
    }
  }

  func finishProgress() { progress.withLock { $0 }?.finish() }

  func logFailure(_ stage: RunStage, _ errors: [SendplanError]) {
    switch stage {
    case .readBundle:
      for e in errors { log.error("\(e)", metadata: ["code": .string(e.code)]) }
      let status = ExitStatus.of(errors)
      log.error("\(errors.count) input error(s); nothing was written (exit \(status.rawValue))")
    case .appendAudit, .seal:
      for e in errors { log.error("audit: \(e)") }
      log.error(
        "the run was aborted; the audit trail is unsealed for this run and OUT is unchanged; re-run with --run-id \(runID)"
      )
    case .writeReports:
      for e in errors { log.error("report: \(e)") }
      if errors.contains(where: { $0.kind == .failedCheck }) {
        log.error("a report failed validation; the run was aborted and OUT is unchanged (exit 70)")
      }
    case .loadReports:
      for e in errors { log.error("templates: \(e)") }
    case .openAudit, .prepareAudit, .plan, .publish:
      for e in errors { log.error("\(e)") }
    }
  }

  func logAudit(_ s: AuditSummary, alreadySealed: Int) {
    for n in s.notices { log.warning("audit: \(n)") }
    let sign = s.signed ? "signed" : "UNSIGNED (no --signing-key)"
    var line =
      "audit: appended \(s.eventsAppended) events to \(s.streams.count) stream(s) in \(auditDir ?? ""), seals \(sign)"
    if alreadySealed > 0 {
      line += "; run \(runID) was already sealed for \(alreadySealed) tenant(s), left unchanged"
    }
    if s.streams.isEmpty && alreadySealed > 0 {
      line = "audit: run \(runID) is already sealed for every tenant; nothing appended (no-op)"
    }
    log.log(
      level: s.notices.isEmpty ? .info : .warning, "\(line)",
      metadata: ["auditEvents": .stringConvertible(s.eventsAppended), "signed": .stringConvertible(s.signed)])
  }

  /// The closing lines of a finished run: every failed tenant's errors, then the totals.
  func logFinished(_ result: RunResult, asOf: Timestamp, out: String, seconds: Double) {
    for t in result.tenants {
      if let f = t.failure { logIssues(f, logger: log) }
    }
    let failed = result.failedTenants
    let totals = stats.snapshot().totals
    let byStatus = ItemStatus.names.map { "\($0) \(totals.byStatus[$0] ?? 0)" }.joined(separator: ", ")
    log.info(
      Logger.Message(
        stringLiteral:
          "run \(runID) as of \(asOf.rfc3339): \(result.tenants.count - failed) tenants planned, \(failed) failed; "
          + "\(totals.items) items (\(byStatus)) in \(fmt(seconds))s; wrote \(out)"))
    if failed > 0 { log.error("\(failed) tenant(s) failed; see the errors above and run.json (exit 1)") }
  }

  /// One line per enrollment (the Stage 2A contract's dry-run log), one per item at debug, one per tenant.
  static func logTenant(_ outcome: TenantOutcome, logger: Logger, enrollmentLevel: Logger.Level) {
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
            "recipientId": .string(r.id.string), "email": .string(r.email.string),
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
    if let audit = outcome.audit { m["auditEvents"] = .stringConvertible(audit.eventsAppended) }
    if let auditSeconds = outcome.auditSeconds { m["auditSeconds"] = .stringConvertible(rounded(auditSeconds)) }
    logger.info("tenant planned", metadata: m)
  }
}

func mebibytes(_ bytes: Int) -> Int { (bytes + (1 << 20) - 1) >> 20 }

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
