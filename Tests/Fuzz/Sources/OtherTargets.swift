import Dispatch
import Foundation
import Logging
import SendplanAudit
import SendplanDiagnostics
import SendplanDryRun
import SendplanEngine
import SendplanInput
import SendplanJSON
import SendplanModel

@testable import SendplanDiff
@testable import SendplanReport
@testable import SendplanServer

/// `diff`: the dry-run line parser on every line, then `diff` of two dry-runs.jsonl files.
///
/// The old and the new file are split at the first 0x1E byte (the new one is empty without it).
final class DiffFuzz: FuzzTarget {
  let old: String
  let new: String

  init(scratch: String) throws {
    old = scratch + "/old.jsonl"
    new = scratch + "/new.jsonl"
  }

  func run(_ data: [UInt8]) {
    var parser = DryRunLineParser()
    var line = RawLine()
    for piece in data.pieces(0x0A) {
      line.bytes = Array(piece)
      do throws(DryRunLineParser.Failure) {
        try parser.parse(&line)
      } catch {
        continue
      }
      _ = line.text(line.enrollmentId)
      _ = line.text(line.plannedAt)
      for e in line.errors { _ = line.text(e) }
      for it in line.items {
        for s in [it.recipientId, it.email, it.status, it.reason, it.templateId, it.identityId] {
          _ = line.text(s)
          _ = RawLine.compare(line, s, line, it.recipientId)
        }
      }
    }
    let cut = data.firstIndex(of: 0x1E) ?? data.endIndex
    Scratch.write(old, data[..<cut])
    Scratch.write(new, data[cut...].dropFirst())
    guard let result = try? Differ.diff(old: old, new: new) else { return }
    for format in DiffFormat.allCases { _ = DiffRenderer.render(result, format: format, maxLines: 20) }
  }

  func seeds() throws -> [String: [UInt8]] {
    let tenant = try BundleReader.read(path: sampleBundle).tenants[0]
    var files: [[UInt8]] = []
    for day in 1...2 {
      let asOf = AuditFolderFixture.asOf(day: day)
      guard case .success(let plan) = Planner.plan(tenant, asOf: asOf) else { continue }
      var out = JSONBytes()
      for e in plan.enrollments { TenantWriter.appendDryRun(e, plannedAt: asOf.rfc3339, to: &out) }
      files.append(out.bytes)
    }
    return ["two-days": files.joined(separator: [0x1E]).map { $0 }]
  }
}

/// `report-xml`: what `check-report` and `report` read: schema validation of a report.xml,
/// well-formedness of a report.html, and the report.xml reader.
final class ReportXMLFuzz: FuzzTarget {
  let validator: ReportValidator
  let xml: String
  let html: String

  init(scratch: String) throws {
    validator = try ReportValidator(
      xsd: ReportTemplates.defaultFiles["report.xsd"] ?? "", legacyXSD: ReportTemplates.defaultFiles["report-v1.xsd"])
    xml = scratch + "/report.xml"
    html = scratch + "/report.html"
  }

  func run(_ data: [UInt8]) {
    Scratch.write(xml, data)
    let invalid = validator.checkXML(xml)
    Scratch.write(html, data)
    _ = ReportValidator.checkWellFormed(html)
    guard let parsed = try? XMLReportReader.read(data, path: xml) else { return }
    if invalid == nil {
      // A valid report that reads back renders to the same plan.
      let again = XMLReport.render(parsed.plan, context: parsed.context)
      FuzzCheck.that(
        (try? XMLReportReader.read(again, path: xml))?.plan.customerID == parsed.plan.customerID,
        "a rendered report does not read back")
    }
  }

  func seeds() throws -> [String: [UInt8]] {
    var out: [String: [UInt8]] = [:]
    for tenant in try BundleReader.read(path: sampleBundle).tenants {
      guard case .success(let plan) = Planner.plan(tenant, asOf: AuditFolderFixture.asOf(day: 1)) else { continue }
      let context = ReportContext(
        runID: "run-fuzz", toolVersion: "fuzz",
        inputs: [ReportInput(file: "recipients.csv", sha256: String(repeating: "0", count: 64), bytes: 10, rows: 1)],
        audit: AuditSeal(
          segment: 1, treeSize: 3, chainHead: String(repeating: "a", count: 64),
          merkleRoot: String(repeating: "b", count: 64), signed: true))
      out["report-\(tenant.customerID.string).xml"] = XMLReport.render(plan, context: context)
    }
    return out
  }
}

/// `server`: the request inputs of sendplan-serve: headers, the percent-encoded id, limit, cursor
/// and asOf, and the tokens file.
///
/// The input is newline-separated fields: X-Customer-Id, bearer token, raw path id, limit, cursor,
/// asOf, then the rest as a tokens file. A field that is `-` alone is absent.
final class ServerFuzz: FuzzTarget {
  let fixture: AuditFolderFixture
  let service: SendplanService
  let unloaded: SendplanService
  let tokens: TokenTable

  init(scratch: String) throws {
    fixture = try AuditFolderFixture(root: scratch)
    let settings = ServiceSettings(
      bundlePath: sampleBundle, auditDir: fixture.audit, now: { AuditFolderFixture.asOf(day: 3) },
      runSuffix: { "fuzz" })
    let logger = Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() })
    service = SendplanService(settings: settings, logger: logger)
    _ = service.reload()
    unloaded = SendplanService(settings: settings, logger: logger)
    tokens = try TokenTable.parse("0123456789abcdef-acme acme\n0123456789abcdef-beta beta\n")
  }

  func run(_ data: [UInt8]) {
    let parts = data.split(separator: 0x0A, maxSplits: 6, omittingEmptySubsequences: false)
    func field(_ i: Int) -> String? {
      guard i < parts.count, parts[i].elementsEqual([0x2D]) == false else { return nil }
      return parts[i].text
    }
    let header = field(0)
    let bearer = field(1)
    if let text = field(6), let table = try? TokenTable.parse(text), let bearer {
      _ = table.customer(forToken: bearer)
    }
    _ = try? SendplanService.customer(header: header, bearer: bearer, auth: .tokens(tokens))
    guard let customer = try? SendplanService.customer(header: header, bearer: bearer, auth: .trustedHeader),
      let raw = field(2), let id = percentDecoded(raw), Values.isValidID(id)
    else { return }
    _ = try? service.audit(customer: customer, enrollmentID: id, limitText: field(3), cursor: field(4))
    // The dry run checks asOf before it looks the tenant up; the unloaded service stops there.
    let asOf = field(5)
    let done = DispatchSemaphore(value: 0)
    let unloaded = self.unloaded
    Task {
      _ = try? await unloaded.dryRun(customer: customer, enrollmentID: id, asOfText: asOf)
      done.signal()
    }
    done.wait()
  }

  func seeds() throws -> [String: [UInt8]] {
    var out: [String: [UInt8]] = [:]
    for (n, (customer, enrollment)) in fixture.enrollments.prefix(4).enumerated() {
      let page = try AuditQuery.page(
        root: fixture.audit, customerID: customer, enrollmentID: enrollment.string, limit: 1)
      let fields = [
        customer.string, "0123456789abcdef-" + customer.string, enrollment.string, "1", page.nextCursor ?? "-",
        "2026-11-29T02:00:00Z", "0123456789abcdef-acme acme",
      ]
      out["request-\(n)"] = Array(fields.joined(separator: "\n").utf8)
    }
    return out
  }
}
