import SendplanInput
import SendplanModel
import SendplanRun
import SendplanTestSupport
import Testing

@testable import SendplanCLI

@Suite struct ProgressTests {
  func outcomes() throws -> (tenants: [ID: Int], outcomes: [TenantOutcome]) {
    let b = try BundleReader.read(path: sampleBundle)
    var weights: [ID: Int] = [:]
    for t in b.tenants { weights[t.customerID] = t.recipients.count + 1 }
    return (weights, b.tenants.map { TenantOutcome(customerID: $0.customerID, folder: "f", plan: nil, failure: nil) })
  }

  @Test func terminalGetsABarWithTenantsRateAndETA() throws {
    let (tenants, outcomes) = try outcomes()
    let console = Console(capturing: true)
    let logger = try LogOptions.parse([]).logger(console: console, quiet: false)
    let p = Progress(weights: tenants, tty: true, interval: 60, logger: logger, console: console, start: 0)
    for o in outcomes { p.tenantDone(o) }
    p.finish()
    #expect(
      console.capturedErr.contains("\rsendplan: [########################] 2/2 tenants"), "\(console.capturedErr)")
    #expect(console.capturedErr.contains("items/s, ETA 0s (") && console.capturedErr.contains("Z) "))
    #expect(console.capturedErr.hasSuffix("\n"))
  }

  @Test func otherwiseALogLineEveryInterval() throws {
    let (tenants, outcomes) = try outcomes()
    let console = Console(capturing: true)
    let logger = try LogOptions.parse(["--log-format", "json"]).logger(console: console, quiet: false)
    let p = Progress(
      weights: tenants, tty: false, interval: 0.000_001, logger: logger, console: console, start: monotonicSeconds())
    for o in outcomes { p.tenantDone(o) }
    p.finish()
    let lines = console.capturedErr.split(separator: "\n")
    #expect(
      lines.count >= 1 && lines.allSatisfy { $0.contains("\"msg\":\"progress: ") && $0.contains("\"tenantsTotal\":2") })
    #expect(!console.capturedErr.contains("\r"))
    let quiet = Console(capturing: true)
    let none = Progress(weights: tenants, tty: false, interval: 0, logger: logger, console: quiet, start: 0)
    for o in outcomes { none.tenantDone(o) }
    #expect(quiet.capturedErr.isEmpty)
  }
}
