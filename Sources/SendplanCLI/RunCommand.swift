import ArgumentParser
import Logging
import SendplanDiagnostics
import SendplanFileSystem
import SendplanRun

#if canImport(Glibc)
  import Glibc
#endif

/// `sendplan run`: option parsing, then the library's ``RunPipeline`` observed by ``RunLog``.
struct RunCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "run",
    abstract: "Plan every enrollment of every tenant and write OUT (run.json and one folder per tenant).",
    discussion: ExitStatus.helpText
  )

  @OptionGroup var flags: RunFlags

  func run() throws {
    let console = Console.current
    let logger = try flags.logOptions.logger(console: console, quiet: flags.quiet)
    let start = monotonicSeconds()
    let asOf = try flags.asOf.map(parseAsOf) ?? now()
    let runID = flags.runID ?? RunOptions.defaultRunID(asOf: asOf)
    let observer = RunLog(flags: flags, logger: logger, console: console, runID: runID)
    let faults = FaultPoints(killAt: flags.debugKillAt, failAt: flags.debugFailAt) { n, what in
      Console.current.err("sendplan: debug kill at step \(n) (\(what))")
      raise(SIGKILL)
    }
    if let path = flags.debugFSJournal {
      CrashJournal.current = try CrashJournal(path: path, skipSync: flags.debugSkipSync)
    }
    defer { if flags.debugFSJournal != nil { CrashJournal.current = nil } }
    StopSignal.install()
    defer { StopSignal.restore() }
    let pipeline = RunPipeline(
      options: flags.options(asOf: asOf, runID: runID, faults: faults), observer: observer,
      clock: { monotonicSeconds() }, shouldStop: { StopSignal.requested })
    var status = ExitStatus.success
    do {
      let result = try pipeline.run()
      if flags.debugCountSteps { console.err("sendplan: debug: \(faults.steps) durability steps") }
      if result.stopped {
        status = .tempFail
      } else {
        observer.logFinished(result, asOf: asOf, out: flags.out, seconds: monotonicSeconds() - start)
        if result.failedTenants > 0 { status = .tenantsFailed }
      }
    } catch let e as SendplanErrors {
      status = ExitStatus.of(e.errors)
    } catch let e as SendplanError {
      status = observer.failedStage.withLock { $0 } == .loadReports ? .noInput : ExitStatus.of(e)
      if observer.failedStage.withLock({ $0 }) == nil { logger.error("\(e)") }
    }
    status = finish(status, observer: observer, logger: logger, seconds: monotonicSeconds() - start)
    if status != .success { throw Exit(status: status) }
  }

  /// The closing log line and the metrics file, on every exit after option parsing.
  func finish(_ status: ExitStatus, observer: RunLog, logger: Logger, seconds: Double) -> ExitStatus {
    let done = observer.stats.snapshot()
    logger.log(
      level: status == .success ? .info : .warning, "run finished with exit status \(status.rawValue)",
      metadata: [
        "exitStatus": .stringConvertible(Int(status.rawValue)), "seconds": .stringConvertible(rounded(seconds)),
        "tenantsPlanned": .stringConvertible(done.planned), "tenantsFailed": .stringConvertible(done.failed),
        "items": .stringConvertible(done.totals.items),
      ])
    guard let path = flags.metricsFile else { return status }
    do {
      let endedAt = Double(now().seconds)
      var lastSuccess: Double? = status == .success ? endedAt : nil
      if lastSuccess == nil, let old = WholeFile.text(path) { lastSuccess = RunMetrics.previousLastSuccess(old) }
      let bytes = RunMetrics.render(
        done, status: status.rawValue, seconds: seconds, endedAt: endedAt, lastSuccess: lastSuccess)
      try AtomicFile.replace(path, with: bytes, tag: "\(getpid())")
      return status
    } catch {
      logger.error("cannot write --metrics-file \(path): \(error)")
      return status == .success ? .ioError : status
    }
  }
}
