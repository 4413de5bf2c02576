import Foundation
import SendplanDiagnostics
import SendplanModel
import Testing

@testable import SendplanInput

@Test func quotedFieldsCommasDoubledQuotesAndLineBreaks() throws {
  let csv =
    "customer_id,enrollment_id,recipient_id,email\r\n"
    + "acme,e1,\"r,1\",\"say \"\"hi\"\"@x.test\"\r\n"
    + "acme,e1,r2,\"b\r\n@x.test\"\r\n"
    + "acme,e1,r3,c@x.test"
  let f = try BundleFixture(["recipients.csv": csv])
  let t = try #require(try f.tenant())
  #expect(t.issues.isEmpty)
  #expect(t.recipients.map(\.id.string) == ["r,1", "r2", "r3"])
  #expect(t.recipients[1].email == "b\r\n@x.test")
  #expect(t.recipients[0].email == "say \"hi\"@x.test")
  // Physical line numbers: the record with the embedded line break starts on line 3.
  #expect(t.recipients.map(\.line) == [2, 3, 5])
}

@Test func bomIsSkippedAtStartOnly() throws {
  let f = try BundleFixture()
  try f.write(
    "recipients.csv",
    bytes: [0xEF, 0xBB, 0xBF]
      + Array("customer_id,enrollment_id,recipient_id,email\nacme,e1,\u{FEFF}r1,a@x.test\n".utf8))
  let t = try #require(try f.tenant())
  #expect(t.recipients.map(\.id.string) == ["\u{FEFF}r1"])
}

@Test func gzipIsReadAndHashedAsStored() throws {
  let gz = try #require(
    Data(base64Encoded: "H4sIAAAAAAACA0suLS7Jz00tis9M0SlJzS3ISSxJBbGLSxJLSou5EpNzU3VKDHUSk0syy1K5AMAfng4uAAAA"))
  let f = try BundleFixture(["templates.csv": nil])
  try f.write("templates.csv.gz", bytes: Array(gz))
  let b = try f.read()
  #expect(b.tenants[0].templates.map(\.id.string) == ["t1"])
  let info = try #require(b.inputs.first { $0.table == .templates })
  #expect(info.name == "templates.csv.gz")
  #expect(info.bytes == gz.count)
  #expect(info.rows == 1)
}

@Test func corruptGzipIsStructural() throws {
  let f = try BundleFixture(["templates.csv": nil])
  try f.write("templates.csv.gz", bytes: [0x1F, 0x8B, 0x08, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3])
  #expect(f.errors().map(\.code) == ["bad_gzip"])
}

@Test func blankLinesAreSkippedAndExtraColumnsIgnored() throws {
  let csv = "customer_id,extra,enrollment_id,recipient_id,email\n\nacme,x,e1,r1,a@x.test\n\n"
  let f = try BundleFixture(["recipients.csv": csv])
  let b = try f.read()
  #expect(b.tenants[0].recipients.count == 1)
  #expect(b.inputs.first { $0.table == .recipients }?.rows == 1)
}

/// A structural CSV error: the file content, the expected code and the line it names.
struct CSVErrorCase: Sendable, CustomTestStringConvertible {
  let name: String
  let content: [UInt8]
  let code: String
  let line: Int?
  init(_ name: String, _ content: String, _ code: String, _ line: Int?) {
    self.name = name
    self.content = Array(content.utf8)
    self.code = code
    self.line = line
  }
  init(_ name: String, bytes: [UInt8], _ code: String, _ line: Int?) {
    self.name = name
    self.content = bytes
    self.code = code
    self.line = line
  }
  var testDescription: String { name }
}

let header = "customer_id,template_id,status\n"
let csvErrorCases: [CSVErrorCase] = [
  CSVErrorCase("quote inside unquoted field", header + "acme,t\"1,active\n", "csv_quote_in_unquoted", 2),
  CSVErrorCase("text after closing quote", header + "acme,\"t1\"x,active\n", "csv_text_after_quote", 2),
  CSVErrorCase("space before opening quote", header + "acme, \"t1\",active\n", "csv_space_before_quote", 2),
  CSVErrorCase("unterminated quote", header + "acme,t1,active\nacme,\"t2,active\n\n", "csv_unterminated_quote", 3),
  CSVErrorCase("bare CR", header + "acme,t1\r,active\n", "csv_bare_cr", 2),
  CSVErrorCase(
    "error in a multi-line record names its first line", header + "acme,\"t\n1\",active,x\n", "csv_field_count", 2),
  CSVErrorCase(
    "quote error after an embedded line break", header + "acme,\"t\n\n1\"x,active\n", "csv_text_after_quote", 2),
  CSVErrorCase("CR at end of file", header + "acme,t1,active\r", "csv_bare_cr", 2),
  CSVErrorCase("mixed LF and CRLF", "customer_id,template_id,status\r\nacme,t1,active\n", "csv_mixed_line_ends", 2),
  CSVErrorCase("too many fields (trailing comma)", header + "acme,t1,active,\n", "csv_field_count", 2),
  CSVErrorCase("too few fields", header + "acme,t1\n", "csv_field_count", 2),
  CSVErrorCase("duplicate header", "customer_id,template_id,status,status\n", "csv_duplicate_header", 1),
  CSVErrorCase("missing required column", "customer_id,template_id,Status\n", "missing_column", 1),
  CSVErrorCase("empty file", "", "empty_file", nil),
  CSVErrorCase("only a BOM", bytes: [0xEF, 0xBB, 0xBF], "missing_header", 1),
  CSVErrorCase("invalid UTF-8", bytes: Array(header.utf8) + [0x61, 0x2C, 0xC3, 0x28, 0x2C, 0x61, 0x0A], "not_utf8", 2),
  CSVErrorCase(
    "overlong UTF-8", bytes: Array(header.utf8) + [0x61, 0x2C, 0xC0, 0xAF, 0x2C, 0x61, 0x0A], "not_utf8", 2),
  CSVErrorCase("missing customer_id", header + "acme,t1,active\n,t2,active\n", "missing_customer_id", 3),
  CSVErrorCase("customer_id with a control character", header + "ac\u{1}me,t1,active\n", "bad_customer_id", 2),
  CSVErrorCase("customer_id with a C1 control", header + "ac\u{85}me,t1,active\n", "bad_customer_id", 2),
  CSVErrorCase(
    "customer_id over 256 bytes", header + String(repeating: "é", count: 129) + ",t1,active\n", "bad_customer_id", 2),
]

@Test("structural CSV errors stop the run with file and line", arguments: csvErrorCases)
func csvStructural(_ c: CSVErrorCase) throws {
  let f = try BundleFixture(["templates.csv": nil])
  try f.write("templates.csv", bytes: c.content)
  let errors = f.errors()
  #expect(errors.map(\.code) == [c.code])
  #expect(errors.first?.path == "templates.csv")
  #expect(errors.first?.line == c.line)
  #expect(errors.first?.kind == .badData)
  #expect(errors.first.map { !$0.fix.isEmpty } == true)
}

@Test func bundleLevelErrors() throws {
  let missing = try BundleFixture(["steps.csv": nil])
  #expect(missing.errors().map(\.code) == ["missing_table"])

  let both = try BundleFixture([
    "steps.jsonl": "{\"customer_id\":\"acme\",\"sequence_id\":\"s1\",\"step_order\":1,\"template_id\":\"t1\"}\n"
  ])
  #expect(both.errors().map(\.code) == ["duplicate_table"])

  // Names match case-sensitively: Steps.csv is ignored, so steps is missing.
  let cased = try BundleFixture(["steps.csv": nil, "Steps.csv": BundleFixture.defaults["steps.csv"]])
  #expect(cased.errors().map(\.code) == ["missing_table"])

  let ignored = try BundleFixture(["notes.txt": "hello", "batches.csv": "customer_id,batch_id,status\n"])
  #expect(try ignored.read().ignored == ["notes.txt"])

  do {
    _ = try BundleReader.read(path: "/nonexistent/sendplan-bundle")
    Issue.record("expected an error")
  } catch {
    #expect(error.errors.map(\.kind) == [.missing])
  }
}

@Test func everyBrokenFileIsReported() throws {
  let f = try BundleFixture(["steps.csv": "", "templates.csv": header + "a,\"b\n"])
  #expect(Set(f.errors().map(\.path)) == ["steps.csv", "templates.csv"])
}

/// A plain record with more fields than the tokenizer first has room for (16) keeps every field
/// when it is the first record the fast path reads (a piece of a split file starts that way): the
/// field ends survive the buffer growing. Found by the csv fuzz target.
@Test(arguments: [17, 40, 200])
func aWideFirstRecordKeepsEveryField(_ fields: Int) throws {
  let values = (0..<fields).map { "v\($0)" }
  let tok = CSVTokenizer(file: "wide.csv", line: 1, lineEnd: .lf)
  var seen: [[String]] = []
  func onRecord() throws(SendplanError) {
    var row: [String] = []
    for f in 0..<tok.fieldCount {
      row.append(try tok.withField(f) { (p) throws(SendplanError) in String(decoding: p, as: UTF8.self) })
    }
    seen.append(row)
  }
  let text = Array((values.joined(separator: ",") + "\n" + values.joined(separator: ",") + "\n").utf8)
  try text.withUnsafeBufferPointer { (p) throws(SendplanError) in try tok.feed(p, emit: onRecord) }
  try tok.finish(emit: onRecord)
  #expect(seen == [values, values])
}
