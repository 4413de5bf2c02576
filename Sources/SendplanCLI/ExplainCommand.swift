import ArgumentParser
import SendplanDiagnostics
import SendplanModel
import SendplanRun

/// `sendplan explain`: why one address or recipient gets (or does not get) each step, with the rows
/// that decided it, and optionally its history in the audit trail.
struct ExplainCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "explain",
    abstract: "Show every item of one address or recipient with the evidence behind it, and its audit history.",
    discussion: """
      Reads only the given customer's rows, plans them as `run` would and prints, for every recipients
      row that matches (the e-mail after the same normalisation as suppressions, or the recipient id),
      each item's status, reason and evidence: the suppression rule, row or check that decided it.
      With --audit-dir it adds the audit entries of those recipients, each checked against the chain.
      The address is printed on stdout only; nothing is logged.
      Exits 0 when something matched, 66 when nothing did, 1 when the tenant's rows have errors and
      65 for structural input errors, as `run` does. docs/explain.md describes the JSON format.
      """
  )

  @OptionGroup var inputOptions: InputOptions
  @Option(name: .customLong("customer-id"), help: "The tenant.") var customerID: String
  @Option(name: .long, help: "The address to explain (matched after normalisation).") var email: String?
  @Option(name: .customLong("recipient-id"), help: "The recipient id to explain.") var recipientID: String?
  @Option(name: .customLong("enrollment-id"), help: "Only this enrollment.") var enrollmentID: String?
  @Option(name: .customLong("as-of"), help: "Plan as of this RFC 3339 time (whole seconds; default now).")
  var asOf: String?
  @Option(name: .customLong("audit-dir"), help: "Add the history from this audit folder.") var auditDir: String?
  @Option(name: .long, help: "text or json.") var format: Format = .text

  enum Format: String, ExpressibleByArgument, CaseIterable {
    case text, json
  }

  func validate() throws {
    guard (email == nil) != (recipientID == nil) else {
      throw ValidationError("give exactly one of --email and --recipient-id")
    }
  }

  func run() throws {
    let console = Console.current
    let at = try asOf.map(parseAsOf) ?? now()
    let customer = ID(customerID)
    let query = ExplainQuery(
      customerID: customer, email: email, recipientID: recipientID.map(ID.init), enrollmentID: enrollmentID.map(ID.init)
    )
    let tenant: TenantInput?
    do {
      tenant = try Explainer.readTenant(bundle: inputOptions.input, customerID: customer)
    } catch {
      for e in error.errors { console.err("error: \(e)") }
      let status = ExitStatus.of(error.errors)
      console.err("sendplan: \(error.errors.count) input error(s) (exit \(status.rawValue))")
      throw Exit(status: status)
    }
    guard let tenant else {
      console.err("sendplan: the bundle has no rows of customer \(customerID.debugDescription) (exit 66)")
      throw Exit(status: .noInput)
    }
    var x: Explanation
    switch Explainer.explain(query, tenant: tenant, asOf: at) {
    case .failure(let f):
      printIssues(f, console: console)
      console.err("sendplan: the tenant's rows have errors, so it cannot be planned (exit 1)")
      throw Exit(status: .tenantsFailed)
    case .success(let e): x = e
    }
    if let auditDir, !x.isEmpty {
      x.history = try auditing { () throws(SendplanError) in try Explainer.history(x, auditDir: auditDir) }
    }
    switch format {
    case .text: console.write(Explainer.text(x), toError: false)
    case .json: console.write(String(decoding: Explainer.json(x).render(), as: UTF8.self), toError: false)
    }
    // The address is the reviewer's own input; it is not repeated on stderr.
    if x.isEmpty {
      console.err("sendplan: no recipients row of this customer matches (exit 66)")
      throw Exit(status: .noInput)
    }
  }
}
