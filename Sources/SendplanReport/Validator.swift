import CSendplanXML
import SendplanDiagnostics

/// Checks report files with libxml2, in process: XML against the compiled schema, streamed, and
/// XHTML for well-formedness. Nothing is fetched and no entity is expanded.
package final class ReportValidator: @unchecked Sendable {
  // Read-only after init; libxml2 validates with a fresh context per call.
  private let schema: OpaquePointer

  /// Compiles `xsd` (the text of report.xsd).
  package init(xsd: String, path: String = "report.xsd") throws(SendplanError) {
    var err = [CChar](repeating: 0, count: 512)
    let bytes = Array(xsd.utf8)
    let s = bytes.withUnsafeBufferPointer { p in
      p.baseAddress.flatMap { base in
        base.withMemoryRebound(to: CChar.self, capacity: p.count) { c in
          sendplan_xml_schema_load(c, p.count, &err, err.count)
        }
      }
    }
    guard let s else {
      throw SendplanError(
        .badData, code: "bad_schema", path: path, message: "the XML schema does not compile: \(Self.text(err))",
        fix: "fix report.xsd (or the templates folder that provides it)")
    }
    schema = s
  }

  deinit { sendplan_xml_schema_free(schema) }

  /// nil when `path` is a valid report.xml; else the problem with file, line and libxml2's message.
  package func checkXML(_ path: String) -> SendplanError? {
    Self.check(path, schema: schema, what: "not valid against report.xsd")
  }

  /// nil when `path` is well-formed XML (XHTML reports).
  package static func checkWellFormed(_ path: String) -> SendplanError? {
    check(path, schema: nil, what: "not well-formed XHTML")
  }

  static func check(_ path: String, schema: OpaquePointer?, what: String) -> SendplanError? {
    var err = [CChar](repeating: 0, count: 512)
    var line: Int32 = 0
    guard sendplan_xml_check_file(path, schema, &err, err.count, &line) != 0 else { return nil }
    return SendplanError(
      .failedCheck, code: "report_invalid", path: path, line: Int(line), message: "\(what): \(text(err))",
      fix: "this is a sendplan or template bug; keep the file and report it")
  }

  static func text(_ buf: [CChar]) -> String {
    String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }
}
