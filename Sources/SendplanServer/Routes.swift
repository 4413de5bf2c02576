import Crypto
import HTTPTypes
import Hummingbird
import Logging
import SendplanInput
import SendplanJSON
import SendplanModel

#if canImport(Glibc)
  import Glibc
#endif

/// Builds the router: the three Stage 2A endpoints, explain, health checks and the admin reload.
///
/// `adminToken` enables `POST /admin/reload` for `Authorization: Bearer <adminToken>`; without it the
/// route answers 404. Every error, including unknown routes, uses the contract's error envelope.
/// `clock` (monotonic seconds) times requests for the log; the caller owns it.
package func makeRouter(
  service: SendplanService, auth: AuthMode, adminToken: String?, logger: Logger,
  clock: @escaping @Sendable () -> Double
) -> Router<BasicRequestContext> {
  let router = Router(context: BasicRequestContext.self)
  router.add(middleware: RequestLogMiddleware(logger: logger, clock: clock))
  router.add(middleware: ErrorEnvelopeMiddleware(logger: logger))

  let api = router.group("api/enrollments")
  api.post(":id/dry-run") { request, context in
    try await respond(request, context, auth) { (customer: ID, id: String) async throws(APIError) -> [UInt8] in
      try await service.dryRun(
        customer: customer, enrollmentID: id, asOfText: request.uri.queryParameters.get("asOf"))
    }
  }
  api.get(":id/audit") { request, context in
    try await respond(request, context, auth) { (customer: ID, id: String) async throws(APIError) -> [UInt8] in
      try service.audit(
        customer: customer, enrollmentID: id, limitText: request.uri.queryParameters.get("limit"),
        cursor: request.uri.queryParameters.get("cursor"))
    }
  }
  api.get(":id/explain") { request, context in
    try await respond(request, context, auth) { (customer: ID, id: String) async throws(APIError) -> [UInt8] in
      try service.explain(
        customer: customer, enrollmentID: id, recipientText: request.uri.queryParameters.get("recipientId"),
        asOfText: request.uri.queryParameters.get("asOf"))
    }
  }
  api.get(":id/queue") { request, context in
    try await respond(request, context, auth) { (customer: ID, id: String) async throws(APIError) -> [UInt8] in
      try service.queue(customer: customer, enrollmentID: id)
    }
  }
  router.get("healthz") { _, _ in json(200, JSONValue.object(["status": .string("ok")]).render(pretty: false)) }
  router.get("readyz") { _, _ in
    guard service.isLoaded else {
      return json(
        503, APIError(status: 503, code: "not_ready", message: "the bundle is not loaded", retryAfter: 5).body)
    }
    guard access(service.settings.auditDir, W_OK) == 0 else {
      return json(503, APIError(status: 503, code: "not_ready", message: "the audit folder is not writable").body)
    }
    return json(200, JSONValue.object(["status": .string("ready")]).render(pretty: false))
  }
  router.post("admin/reload") { request, _ in
    guard let adminToken else { return json(404, APIError.notFound.body) }
    guard let given = bearer(request), constantTimeEqual(given, adminToken) else {
      return json(401, APIError(status: 401, code: "unauthorized", message: "the admin token is required").body)
    }
    switch service.reload() {
    case .success(let tenants):
      logger.info("bundle reloaded", metadata: ["tenants": .stringConvertible(tenants)])
      return json(
        200,
        JSONValue.object(["status": .string("reloaded"), "tenants": .int(Int64(tenants))]).render(pretty: false))
    case .failure(let errors):
      for e in errors.errors.prefix(20) { logger.error("reload: \(e)") }
      logger.error("reload failed; still serving the previous bundle")
      return json(
        422,
        APIError(
          status: 422, code: "bundle_invalid",
          message: "the new bundle has errors; the previous bundle is still served",
          details: Array(Set(errors.errors.map(\.code))).sorted()
        ).body)
    }
  }
  return router
}

/// Runs an `/api` handler for the request's customer and enrollment id, turning `APIError` into a response.
func respond(
  _ request: Request, _ context: BasicRequestContext, _ auth: AuthMode,
  _ body: (ID, String) async throws(APIError) -> [UInt8]
) async throws -> Response {
  do throws(APIError) {
    let customer = try SendplanService.customer(
      header: request.headers[customerHeader], bearer: bearer(request), auth: auth)
    guard let raw = context.parameters.get("id"), let id = percentDecoded(raw), Values.isValidID(id) else {
      throw APIError.notFound
    }
    return json(200, try await body(customer, id))
  } catch {
    var r = json(error.status, error.body)
    if let s = error.retryAfter { r.headers[.retryAfter] = String(s) }
    return r
  }
}

// swift-format-ignore: NeverForceUnwrap
// A constant, valid field name; the initializer fails only for invalid tokens.
let customerHeader = HTTPField.Name("X-Customer-Id")!

func bearer(_ request: Request) -> String? {
  guard let h = request.headers[.authorization], h.hasPrefix("Bearer ") else { return nil }
  return String(h.dropFirst(7))
}

func constantTimeEqual(_ a: String, _ b: String) -> Bool {
  digestsEqual(Array(SHA256.hash(data: Array(a.utf8))), Array(SHA256.hash(data: Array(b.utf8))))
}

func json(_ status: Int, _ bytes: [UInt8]) -> Response {
  Response(
    status: .init(code: status), headers: [.contentType: "application/json"],
    body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
}

/// Decodes `%XX` escapes; nil for a malformed escape or bytes that are not UTF-8.
func percentDecoded(_ s: String) -> String? {
  var out: [UInt8] = []
  var it = Array(s.utf8)[...]
  while let b = it.popFirst() {
    if b == 0x25 {
      guard it.count >= 2, let hi = JSONEscape.hexValue(it[it.startIndex]),
        let lo = JSONEscape.hexValue(it[it.startIndex + 1])
      else { return nil }
      out.append(UInt8(hi << 4 | lo))
      it = it.dropFirst(2)
    } else {
      out.append(b)
    }
  }
  return String(validating: out, as: UTF8.self)
}

extension Values {
  static func isValidID(_ s: String) -> Bool { idProblem(s) == nil }
}

/// Logs one line per request: method, route template (never the raw path, which holds ids), status,
/// duration and customer id.
struct RequestLogMiddleware: RouterMiddleware {
  typealias Context = BasicRequestContext
  let logger: Logger
  let clock: @Sendable () -> Double

  func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
    -> Response
  {
    let start = clock()
    var status = 500
    defer {
      let ms = (clock() - start) * 1000
      var m: Logger.Metadata = [
        "method": .string(request.method.rawValue), "route": .string(context.endpointPath ?? "unmatched"),
        "status": .stringConvertible(status), "durationMs": .stringConvertible((ms * 1000).rounded() / 1000),
      ]
      if let c = request.headers[customerHeader], Values.isValidID(c) { m["customerId"] = .string(c) }
      logger.info("request", metadata: m)
    }
    let response = try await next(request, context)
    status = response.status.code
    return response
  }
}

/// Turns anything thrown below (unknown route, wrong method, a bug) into the error envelope;
/// a 500 never carries the cause, which goes to the log.
struct ErrorEnvelopeMiddleware: RouterMiddleware {
  typealias Context = BasicRequestContext
  let logger: Logger

  func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
    -> Response
  {
    do {
      return try await next(request, context)
    } catch let e as HTTPError {
      switch e.status.code {
      case 404: return json(404, APIError.notFound.body)
      case 405:
        return json(405, APIError(status: 405, code: "method_not_allowed", message: "method not allowed here").body)
      case 400..<500:
        return json(e.status.code, APIError(status: e.status.code, code: "bad_request", message: "bad request").body)
      default:
        logger.error("request failed: \(e)")
        return json(500, APIError.internalError.body)
      }
    } catch {
      logger.error("request failed: \(error)")
      return json(500, APIError.internalError.body)
    }
  }
}
