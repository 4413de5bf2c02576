import CSendplanXML
import SendplanDiagnostics
import SendplanFileSystem

/// Checks report files with libxml2, in process: XML against the compiled schema and XHTML for
/// well-formedness, both through the SAX push parser (the schema's validator plugged into the SAX
/// stream, no tree built). Nothing is fetched and no entity is expanded.
package final class ReportValidator: @unchecked Sendable {
  // Read-only after init; every check gets a fresh validation context.
  let schema: OpaquePointer
  /// The format version 1 schema, for reports written before version 2.
  let legacy: OpaquePointer?

  /// Compiles `xsd` (the text of report.xsd) and, when given, `legacyXSD` (report-v1.xsd).
  package init(xsd: String, legacyXSD: String? = nil, path: String = "report.xsd") throws(SendplanError) {
    schema = try Self.compile(xsd, path: path)
    do {
      legacy = try legacyXSD.map { (x: String) throws(SendplanError) in try Self.compile(x, path: "report-v1.xsd") }
    } catch {
      sendplan_xml_schema_free(schema)
      throw error
    }
  }

  deinit {
    sendplan_xml_schema_free(schema)
    if let legacy { sendplan_xml_schema_free(legacy) }
  }

  private static func compile(_ xsd: String, path: String) throws(SendplanError) -> OpaquePointer {
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
        .badData, code: "bad_schema", path: path, message: "the XML schema does not compile: \(XMLPushCheck.text(err))",
        fix: "fix \(path) (or the templates folder that provides it)")
    }
    return s
  }

  /// nil when `path` is a valid report.xml; else the problem with file, line and libxml2's message.
  /// A file in format version 1 (its namespace says so) is checked against that version's schema.
  package func checkXML(_ path: String) -> SendplanError? {
    if let legacy, Self.isVersion1(path) {
      return Self.check(path, XMLPushCheck(schema: legacy, what: "not valid against report-v1.xsd"))
    }
    return Self.check(path, XMLPushCheck(schema: schema, what: "not valid against report.xsd"))
  }

  /// Whether the file's first bytes name format version 1's namespace.
  static func isVersion1(_ path: String) -> Bool {
    guard let head = try? FS.read(path, offset: 0, length: 1024) else { return false }
    let needle = Array("xmlns=\"urn:sendplan:report:1\"".utf8)
    guard head.count >= needle.count else { return false }
    for i in 0...(head.count - needle.count) where head[i] == needle[0] {
      if head[i..<(i + needle.count)].elementsEqual(needle) { return true }
    }
    return false
  }

  /// nil when `path` is well-formed XML (XHTML reports).
  package static func checkWellFormed(_ path: String) -> SendplanError? {
    check(path, XMLPushCheck(schema: nil, what: "not well-formed XHTML"))
  }

  /// Feeds the file in pieces, so a large report is never read whole.
  static func check(_ path: String, _ check: XMLPushCheck?) -> SendplanError? {
    guard let check else { return XMLPushCheck.noParser(path) }
    let piece = 1 << 20
    var offset: Int64 = 0
    while true {
      let bytes: [UInt8]
      do {
        bytes = try FS.read(path, offset: offset, length: piece)
      } catch {
        return error
      }
      let last = bytes.count < piece
      if !check.feed(bytes, last: last) || last { break }
      offset += Int64(bytes.count)
    }
    return check.result(path: path)
  }
}

/// One document going through libxml2's push parser, against a schema or for well-formedness only.
final class XMLPushCheck {
  private let handle: OpaquePointer
  private let what: String

  init?(schema: OpaquePointer?, what: String) {
    guard let h = sendplan_xml_push_new(schema) else { return nil }
    handle = h
    self.what = what
  }

  deinit { sendplan_xml_push_free(handle) }

  /// Feeds bytes; false once the document has gone wrong (the rest need not be fed).
  func feed(_ bytes: [UInt8], last: Bool) -> Bool {
    bytes.withUnsafeBufferPointer { p in
      p.withMemoryRebound(to: CChar.self) { c in
        sendplan_xml_push_feed(handle, c.baseAddress, c.count, last ? 1 : 0) == 0
      }
    }
  }

  /// nil when the document was fine; else its first problem, with `path` and the line.
  func result(path: String) -> SendplanError? {
    var err = [CChar](repeating: 0, count: 512)
    var line: Int32 = 0
    guard sendplan_xml_push_result(handle, &err, err.count, &line) != 0 else { return nil }
    return SendplanError(
      .failedCheck, code: "report_invalid", path: path, line: Int(line), message: "\(what): \(Self.text(err))",
      fix: "this is a sendplan or template bug; keep the file and report it")
  }

  static func noParser(_ path: String) -> SendplanError {
    SendplanError(
      .io, code: "xml_parser_unavailable", path: path, message: "libxml2 could not allocate a parser",
      fix: "free memory and re-run")
  }

  static func text(_ buf: [CChar]) -> String {
    String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }
}

/// A report file written and checked in one pass: the renderer appends to its own buffer and
/// hands it over here, where each flush writes the bytes to the file and feeds them to the checker,
/// so no copy of a whole report is kept and nothing is read back.
final class CheckedFile {
  let path: String
  private let file: OutputFile
  private let check: XMLPushCheck
  private let folder: FolderWriter
  private var ok = true
  /// Buffers are flushed once they hold this many bytes.
  static let threshold = 256 * 1024

  init(_ name: String, in folder: FolderWriter, schema: OpaquePointer?, what: String) throws(SendplanError) {
    let file = try folder.open(name)
    guard let check = XMLPushCheck(schema: schema, what: what) else { throw XMLPushCheck.noParser(file.path) }
    self.file = file
    self.check = check
    self.folder = folder
    path = file.path
  }

  /// Writes, checks and empties `buffer` once it is large enough.
  func flushIfNeeded(_ buffer: inout [UInt8]) throws(SendplanError) {
    if buffer.count >= Self.threshold { try flush(&buffer, last: false) }
  }

  private func flush(_ buffer: inout [UInt8], last: Bool) throws(SendplanError) {
    try file.write(buffer)
    // After the first problem the checker has its answer; the file is still written whole.
    if ok { ok = check.feed(buffer, last: last) }
    buffer.removeAll(keepingCapacity: true)
  }

  /// Writes the rest, closes the file, and throws the document's first problem if it has one.
  func finish(_ buffer: inout [UInt8]) throws(SendplanError) {
    try flush(&buffer, last: true)
    try folder.close(file)
    if let e = check.result(path: path) { throw e }
  }
}
