import Crypto
import Dispatch
import Logging
import SendplanAudit
import SendplanDiagnostics
import SendplanFileSystem
import SendplanInput
import SendplanJSON
import SendplanModel
import SendplanRun
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// An API failure: an HTTP status and the contract's error envelope `{"error":{"code","message","details"}}`.
package struct APIError: Error, Sendable, Equatable {
  package var status: Int
  package var code: String
  package var message: String
  package var details: [String]
  /// Seconds for a `Retry-After` header (503 only).
  package var retryAfter: Int?

  package init(status: Int, code: String, message: String, details: [String] = [], retryAfter: Int? = nil) {
    self.status = status
    self.code = code
    self.message = message
    self.details = details
    self.retryAfter = retryAfter
  }

  package var body: [UInt8] {
    JSONValue.object([
      "error": .object([
        "code": .string(code), "message": .string(message), "details": .array(details.map { .string($0) }),
      ])
    ]).render(pretty: false)
  }

  /// One body for an unknown enrollment and another tenant's enrollment, so neither leaks.
  package static let notFound = APIError(
    status: 404, code: "not_found", message: "no such enrollment for this customer")

  package static func badRequest(_ code: String, _ message: String) -> APIError {
    APIError(status: 400, code: code, message: message)
  }

  /// 500s say nothing about the cause; it goes to the server log instead.
  package static let internalError = APIError(
    status: 500, code: "internal_error", message: "the server failed; the request can be retried")
}

/// How `/api` requests prove which customer they act for.
package enum AuthMode: Sendable {
  /// Trust `X-Customer-Id` as set by a gateway in front (the default, on loopback only).
  case trustedHeader
  /// `Authorization: Bearer <token>`, each token mapped to one customer id.
  case tokens(TokenTable)
}

/// Bearer tokens and their customers. Tokens are kept as SHA-256 digests and compared in constant time.
package struct TokenTable: Sendable {
  struct Entry: Sendable {
    var digest: [UInt8]
    var customerID: String
  }
  let entries: [Entry]

  /// Parses lines `TOKEN CUSTOMER_ID`; blank lines and lines starting with `#` are skipped.
  /// Tokens must be at least 16 characters.
  package static func parse(_ text: String) throws(APIError) -> TokenTable {
    var entries: [Entry] = []
    for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let line = raw.trimmingSpaces
      if line.isEmpty || line.hasPrefix("#") { continue }
      let parts = line.split(separator: " ", omittingEmptySubsequences: true)
      guard parts.count == 2, parts[0].utf8.count >= 16, Values.idProblem(String(parts[1])) == nil else {
        throw APIError(
          status: 0, code: "bad_tokens_file",
          message: "line \(n + 1): expected `TOKEN CUSTOMER_ID` with a token of 16 characters or more")
      }
      entries.append(Entry(digest: Array(SHA256.hash(data: Array(parts[0].utf8))), customerID: String(parts[1])))
    }
    guard !entries.isEmpty else {
      throw APIError(status: 0, code: "bad_tokens_file", message: "the tokens file has no tokens")
    }
    return TokenTable(entries: entries)
  }

  /// The customer a token belongs to. Every entry is compared, whatever matches, so the time taken
  /// does not depend on which token (or how much of one) was right.
  package func customer(forToken token: String) -> String? {
    let d = Array(SHA256.hash(data: Array(token.utf8)))
    var found: String?
    for e in entries where digestsEqual(e.digest, d) { found = e.customerID }
    return found
  }
}

/// Compares two SHA-256 digests in time that does not depend on where they differ.
func digestsEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
  guard a.count == 32, b.count == 32 else { return false }
  var diff: UInt8 = 0
  for i in 0..<32 { diff |= a[i] ^ b[i] }
  return diff == 0
}

extension Substring {
  fileprivate var trimmingSpaces: Substring {
    var s = self
    while let f = s.first, f == " " || f == "\t" || f == "\r" { s.removeFirst() }
    while let l = s.last, l == " " || l == "\t" || l == "\r" { s.removeLast() }
    return s
  }
}

/// What the server needs from outside: paths, keys, and the clock and run ids (never read inside).
package struct ServiceSettings: Sendable {
  package var bundlePath: String
  package var auditDir: String
  /// The nightly run's OUT, read by the queue endpoint; optional.
  package var outDir: String?
  /// Ed25519 key file (from `sendplan audit keygen`) that signs on-demand seals.
  package var signingKeyPath: String?
  package var now: @Sendable () -> Timestamp
  /// A fresh, unique suffix for each on-demand run id (`ondemand-<asOf>-<suffix>`).
  package var runSuffix: @Sendable () -> String
  /// Largest CSV record, CSV field or JSONL line the bundle may hold (`--max-record-bytes`).
  package var maxRecordBytes = ReadLimits.defaultMaxRecordBytes

  /// `--max-record-bytes` in bytes (as `sendplan run` reads it); nil when malformed or out of range.
  package static func parseRecordBytes(_ text: String) -> Int? { ReadLimits.parseRecordBytes(text) }

  package init(
    bundlePath: String, auditDir: String, outDir: String? = nil, signingKeyPath: String? = nil,
    now: @escaping @Sendable () -> Timestamp, runSuffix: @escaping @Sendable () -> String
  ) {
    self.bundlePath = bundlePath
    self.auditDir = auditDir
    self.outDir = outDir
    self.signingKeyPath = signingKeyPath
    self.now = now
    self.runSuffix = runSuffix
  }
}

/// The three Stage 2A endpoints over the same planner, audit trail and outputs as `sendplan run`.
package final class SendplanService: Sendable {
  package let settings: ServiceSettings
  let logger: Logger
  /// The loaded bundle's tenants; nil until the first load succeeds.
  private let tenants = Mutex<[ID: TenantInput]?>(nil)
  /// On-demand queue summaries, newest per enrollment; the audit trail keeps the events themselves.
  private let onDemand = Mutex<[String: (plannedAt: String, summary: JSONValue)]>([:])
  /// On-demand audit appends run one at a time; only a nightly run holding the lock makes them wait.
  private let auditQueue = DispatchQueue(label: "sendplan.audit")

  /// NUL cannot occur in ids, so it separates customer and enrollment unambiguously.
  static func onDemandKey(_ customer: ID, _ enrollmentID: String) -> String {
    customer.string + "\u{0}" + enrollmentID
  }

  package init(settings: ServiceSettings, logger: Logger) {
    self.settings = settings
    self.logger = logger
  }

  /// Loads (or reloads) the bundle; on failure the bundle in use stays and the errors are returned.
  @discardableResult
  package func reload() -> Result<Int, SendplanErrors> {
    do {
      let b = try BundleReader.read(
        path: settings.bundlePath, limits: ReadLimits(maxRecordBytes: settings.maxRecordBytes))
      var map: [ID: TenantInput] = [:]
      for t in b.tenants { map[t.customerID] = t }
      tenants.withLock { $0 = map }
      return .success(map.count)
    } catch {
      return .failure(error)
    }
  }

  package var isLoaded: Bool { tenants.withLock { $0 != nil } }

  /// Checks `X-Customer-Id` (and the token, in token mode): 400, 401 or 403.
  package static func customer(header: String?, bearer: String?, auth: AuthMode) throws(APIError) -> ID {
    guard let header else {
      throw .badRequest("missing_customer_id", "the X-Customer-Id header is required")
    }
    if let problem = Values.idProblem(header) {
      throw .badRequest("bad_customer_id", "X-Customer-Id \(problem)")
    }
    if case .tokens(let table) = auth {
      guard let bearer, let owner = table.customer(forToken: bearer) else {
        throw APIError(status: 401, code: "unauthorized", message: "a valid bearer token is required")
      }
      guard ByteOrder.equal(owner, header) else {
        throw APIError(status: 403, code: "forbidden", message: "this token may not act for that customer")
      }
    }
    return ID(header)
  }

  func tenant(_ customer: ID) throws(APIError) -> TenantInput {
    guard let t = tenants.withLock({ $0?[customer] }) else { throw .notFound }
    return t
  }

  /// `POST /api/enrollments/:id/dry-run`: plans the enrollment, seals its events as an on-demand run
  /// and returns the dry-run response (or 422 with every enrollment-level error code).
  package func dryRun(customer: ID, enrollmentID: String, asOfText: String?) async throws(APIError) -> [UInt8] {
    let asOf = try Self.asOf(asOfText) ?? settings.now()
    let tenant = try tenant(customer)
    let runID = "ondemand-" + asOf.compact + "-" + settings.runSuffix()
    var options = RunOptions(
      input: settings.bundlePath, out: "", asOf: asOf, runID: runID, auditDir: settings.auditDir,
      signingKeyPath: settings.signingKeyPath, reports: false)
    options.readLimits = ReadLimits(maxRecordBytes: settings.maxRecordBytes)
    let pipeline = RunPipeline(options: options, observer: IgnoredEvents(), clock: { 0 })
    let run = try await onAuditQueue(customer) { () throws(SendplanError) in
      try pipeline.planEnrollment(ID(enrollmentID), of: tenant)
    }
    let planned: EnrollmentDryRun
    switch run {
    case .notFound: throw .notFound
    case .tenantInvalid(let codes):
      throw APIError(
        status: 422, code: "tenant_data_invalid",
        message: "this customer's export has row errors, so none of its enrollments can be planned", details: codes)
    case .notPlannable(let status):
      throw APIError(
        status: 422, code: "enrollment_not_plannable",
        message: "the enrollment is \(status); only active and paused enrollments are planned", details: [status])
    case .planned(let p): planned = p
    }
    let key = SendplanService.onDemandKey(customer, enrollmentID)
    onDemand.withLock { m in
      if let old = m[key], old.plannedAt > asOf.rfc3339 { return }
      m[key] = (asOf.rfc3339, planned.queueSummary)
    }
    let errors = planned.plan.errors
    if !errors.isEmpty {
      throw APIError(
        status: 422, code: "enrollment_invalid",
        message: "the enrollment cannot be planned: " + errors.map(\.rawValue).joined(separator: ", "),
        details: errors.map(\.rawValue))
    }
    return planned.dryRun
  }

  /// Runs `body` on the serial queue that orders on-demand audit appends, and maps audit trouble to 503 or 500.
  func onAuditQueue<T: Sendable>(_ customer: ID, _ body: @escaping @Sendable () throws(SendplanError) -> T)
    async throws(APIError) -> T
  {
    let result: Result<T, SendplanError> = await withCheckedContinuation { cont in
      auditQueue.async {
        do throws(SendplanError) {
          cont.resume(returning: .success(try body()))
        } catch {
          cont.resume(returning: .failure(error))
        }
      }
    }
    switch result {
    case .success(let v): return v
    case .failure(let e):
      switch e.kind {
      case .busy:
        throw APIError(
          status: 503, code: "audit_busy", message: "a nightly run holds the audit trail; retry shortly",
          retryAfter: 30)
      case .io, .cannotCreate:
        throw APIError(
          status: 503, code: "audit_unavailable", message: "the audit trail cannot be written right now",
          retryAfter: 30)
      case .badData, .missing, .usage, .failedCheck:
        logger.error("on-demand audit append failed: \(e)", metadata: ["customerId": .string(customer.string)])
        throw .internalError
      }
    }
  }

  /// `GET /api/enrollments/:id/audit`: one page of the enrollment's verified entries.
  package func audit(customer: ID, enrollmentID: String, limitText: String?, cursor: String?) throws(APIError)
    -> [UInt8]
  {
    var limit = AuditQuery.defaultLimit
    if let limitText {
      guard let l = Int(limitText), (1...AuditQuery.maxLimit).contains(l) else {
        throw .badRequest("bad_limit", "limit must be an integer from 1 to \(AuditQuery.maxLimit)")
      }
      limit = l
    }
    do {
      let page = try AuditQuery.page(
        root: settings.auditDir, customerID: customer, enrollmentID: enrollmentID, limit: limit, cursor: cursor)
      return page.document.render(pretty: false)
    } catch {
      switch error.kind {
      case .missing:
        // Known but never audited is an empty history; unknown to this customer is 404 either way.
        let id = ID(enrollmentID)
        let known = tenants.withLock { $0?[customer]?.enrollments.contains { $0.id == id } } ?? false
        guard known, cursor == nil else { throw .notFound }
        return QueryPage(enrollmentID: enrollmentID, entries: [], nextCursor: nil).document.render(pretty: false)
      case .usage:
        throw .badRequest(error.code, "the cursor is not valid for this enrollment")
      case .io, .busy, .cannotCreate:
        throw APIError(
          status: 503, code: "audit_unavailable", message: "the audit trail cannot be read", retryAfter: 30)
      case .badData, .failedCheck:
        logger.error("audit query failed: \(error)", metadata: ["customerId": .string(customer.string)])
        throw .internalError
      }
    }
  }

  /// `GET /api/enrollments/:id/explain?recipientId=R`: the recipient's items in this enrollment with
  /// their evidence and audit history, as `sendplan explain --format json --audit-dir` prints them.
  /// Reads and writes nothing but the audit trail's entries; plans the tenant in memory.
  package func explain(
    customer: ID, enrollmentID: String, recipientText: String?, asOfText: String?
  ) throws(APIError) -> [UInt8] {
    guard let recipientText, Values.isValidID(recipientText) else {
      throw .badRequest("bad_recipient_id", "recipientId is required: 1 to 256 bytes without control characters")
    }
    let asOf = try Self.asOf(asOfText) ?? settings.now()
    let tenant = try tenant(customer)
    let query = ExplainQuery(customerID: customer, recipientID: ID(recipientText), enrollmentID: ID(enrollmentID))
    var x: Explanation
    switch Explainer.explain(query, tenant: tenant, asOf: asOf) {
    case .failure(let f):
      throw APIError(
        status: 422, code: "tenant_data_invalid",
        message: "this customer's export has row errors, so none of its enrollments can be planned",
        details: Array(Set(f.issues.map(\.code))).sorted())
    case .success(let e): x = e
    }
    guard !x.isEmpty else { throw .notFound }
    do {
      x.history = try Explainer.history(x, auditDir: settings.auditDir)
    } catch {
      switch error.kind {
      case .io, .busy, .cannotCreate, .missing:
        throw APIError(
          status: 503, code: "audit_unavailable", message: "the audit trail cannot be read", retryAfter: 30)
      case .badData, .failedCheck, .usage:
        logger.error("explain: audit history failed: \(error)", metadata: ["customerId": .string(customer.string)])
        throw .internalError
      }
    }
    return Explainer.json(x).render(pretty: false)
  }

  /// A request's `asOf`: nil when absent; whole seconds only.
  static func asOf(_ text: String?) throws(APIError) -> Timestamp? {
    guard let text else { return nil }
    guard case .time(let t) = Timestamp.parseWholeSeconds(text) else {
      throw .badRequest("bad_as_of", "asOf must be an RFC 3339 time in whole seconds, such as 2026-11-27T02:00:00Z")
    }
    return t
  }

  /// `GET /api/enrollments/:id/queue`: the queue summary of the newest dry run, nightly or on-demand.
  package func queue(customer: ID, enrollmentID: String) throws(APIError) -> [UInt8] {
    var best = onDemand.withLock { $0[SendplanService.onDemandKey(customer, enrollmentID)] }
    if let out = settings.outDir {
      let path = out + "/tenants/" + FolderName.of(customer) + "/queue.json"
      if let bytes = WholeFile.bytes(path), let doc = try? JSONParse.parse(bytes),
        doc["customerId"]?.stringValue == customer.string,
        let list = doc["enrollments"]?.arrayValue,
        let s = list.first(where: { $0["enrollmentId"]?.stringValue == enrollmentID }),
        let at = s["plannedAt"]?.stringValue, best == nil || at > best?.plannedAt ?? ""
      {
        best = (at, s)
      }
    }
    guard let best else { throw .notFound }
    return JSONValue.object(["data": best.summary]).render(pretty: false)
  }
}

/// The on-demand run reports nothing beyond its result.
struct IgnoredEvents: RunObserver {
  func observe(_ event: RunEvent) {}
}
