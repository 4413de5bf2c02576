import Logging
import SendplanModel
import SendplanRun
import Synchronization

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

  init(weights: [ID: Int], tty: Bool, interval: Double, logger: Logger, console: Console, start: Double) {
    self.weights = weights
    totalWeight = max(1, weights.values.reduce(0, +))
    totalTenants = weights.count
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
