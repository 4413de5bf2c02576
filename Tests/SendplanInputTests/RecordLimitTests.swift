import Foundation
import SendplanDiagnostics
import SendplanInput
import SendplanModel
import Testing

/// A record over the limit is a structural error naming the file and the record's first line, on
/// every path the reader takes: one piece, pieces in parallel, part files, gzip and JSONL.
struct LimitCase: Sendable, CustomTestStringConvertible {
  var name: String
  /// Files to write (name to bytes); nil removes a default file.
  var files: [String: [UInt8]?]
  var limits = ReadLimits(maxRecordBytes: 256, maxFields: 64)
  /// Pieces of this many bytes for plain CSV files.
  var pieceBytes = 1 << 40
  var path: String
  var line: Int
  var code = "record_too_large"
  var testDescription: String { name }
}

private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

private let limitHeader = "customer_id,enrollment_id,recipient_id,email\n"
private let limitBig = String(repeating: "x", count: 300)

/// Writes `data` gzip-compressed (by the system's gzip) to `url`, a name ending in `.gz`.
func writeGzipped(_ data: [UInt8], to url: URL) throws {
  let plain = url.deletingPathExtension()
  try Data(data).write(to: plain)
  let p = Process()
  p.executableURL = URL(fileURLWithPath: "/bin/gzip")
  p.arguments = ["-n", "-f", plain.path]
  try p.run()
  p.waitUntilExit()
  #expect(p.terminationStatus == 0)
}

private let limitCases: [LimitCase] = {
  let rows = manyRecipients(200)
  let late = rows + "acme,e1,r9,\(limitBig)@x.test\n"
  let lateLine = 202
  return [
    LimitCase(
      name: "CSV field", files: ["recipients.csv": bytes(limitHeader + "acme,e1,r1,\(limitBig)\n")],
      path: "recipients.csv",
      line: 2),
    LimitCase(
      name: "quoted CSV field over several lines names its first line",
      files: ["recipients.csv": bytes(limitHeader + "acme,e1,r1,a@x.test\nacme,e1,r2,\"a\n\(limitBig)\nb\"\n")],
      path: "recipients.csv", line: 3),
    LimitCase(
      name: "CSV record of many small fields",
      files: ["recipients.csv": bytes(limitHeader + "acme,e1,r1," + String(repeating: "ab,", count: 100) + "z\n")],
      limits: ReadLimits(maxRecordBytes: 256, maxFields: 1000), path: "recipients.csv", line: 2),
    LimitCase(
      name: "CSV record of too many fields",
      files: ["recipients.csv": bytes(limitHeader + "acme,e1,r1" + String(repeating: ",", count: 200) + "\n")],
      path: "recipients.csv", line: 2, code: "csv_too_many_fields"),
    LimitCase(
      name: "CSV header of too many fields",
      files: ["recipients.csv": bytes(String(repeating: ",", count: 100_000) + "\n")],
      limits: ReadLimits(), path: "recipients.csv", line: 1, code: "csv_too_many_fields"),
    LimitCase(
      name: "CSV read in pieces, late record", files: ["recipients.csv": bytes(late)], pieceBytes: 64,
      path: "recipients.csv", line: lateLine),
    LimitCase(
      name: "CSV read in one piece, late record", files: ["recipients.csv": bytes(late)], path: "recipients.csv",
      line: lateLine),
    LimitCase(
      name: "CSV part file",
      files: [
        "recipients.csv": nil, "recipients/part-0.csv": bytes(rows),
        "recipients/part-1.csv": bytes(limitHeader + "acme,e1,r1,a@x.test\nacme,e1,r2,\(limitBig)\n"),
      ], path: "recipients/part-1.csv", line: 3),
    LimitCase(
      name: "gzip CSV field",
      files: [
        "recipients.csv": nil, "recipients.csv.gz": bytes(limitHeader + "acme,e1,r1," + limitBig + limitBig + "\n"),
      ],
      path: "recipients.csv.gz", line: 2),
    LimitCase(
      name: "JSONL line",
      files: [
        "recipients.csv": nil,
        "recipients.jsonl": bytes(
          "{\"customer_id\":\"acme\",\"enrollment_id\":\"e1\",\"recipient_id\":\"r1\",\"email\":\"a@x.test\"}\n"
            + "{\"customer_id\":\"acme\",\"email\":\"\(limitBig)\"}\n"),
      ], path: "recipients.jsonl", line: 2),
    LimitCase(
      name: "JSONL line without a line feed, gzip",
      files: ["recipients.csv": nil, "recipients.jsonl.gz": bytes("{\"email\":\"" + limitBig + limitBig + limitBig)],
      path: "recipients.jsonl.gz", line: 1),
  ]
}()

@Test("a record over the limit is a structural error at its line", arguments: limitCases)
func recordOverLimit(_ c: LimitCase) throws {
  let f = try BundleFixture()
  for (name, content) in c.files.sorted(by: { $0.key < $1.key }) {
    let url = f.dir.appendingPathComponent(name)
    guard let content else {
      try? FileManager.default.removeItem(at: url)
      continue
    }
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    if name.hasSuffix(".gz") {
      try writeGzipped(content, to: url)
    } else {
      try Data(content).write(to: url)
    }
  }
  do {
    _ = try BundleReader.read(path: f.dir.path, pieceBytes: c.pieceBytes, limits: c.limits)
    Issue.record("the bundle was read")
  } catch {
    #expect(error.errors.map(\.code) == [c.code], "\(error.errors)")
    #expect(error.errors.first?.path == c.path)
    #expect(error.errors.first?.line == c.line)
    #expect(error.errors.first?.kind == .badData)
  }
}

@Test func recordsAtTheLimitAreRead() throws {
  // Field bytes plus one per field: "acme,e1,r1," and an email filling the rest is exactly the limit.
  let email = String(repeating: "a", count: 256 - 4 - 2 - 2 - 4 - 7) + "@x.test"
  let f = try BundleFixture(["recipients.csv": limitHeader + "acme,e1,r1,\(email)\n"])
  let b = try BundleReader.read(path: f.dir.path, limits: ReadLimits(maxRecordBytes: 256))
  #expect(b.tenants.first?.recipients.first?.email.string == email)
}

@Test(
  "--max-record-bytes sizes",
  arguments: [
    ("4096", 4096), ("64K", 65536), ("1M", 1 << 20), ("1MiB", 1 << 20), ("1G", 1 << 30), ("2G", nil), ("0", nil),
    ("-1", nil), ("1T", nil), ("", nil), ("99999999999K", nil),
  ] as [(String, Int?)])
func recordBytesFlag(_ text: String, _ bytes: Int?) {
  #expect(ReadLimits.parseRecordBytes(text) == bytes)
}
