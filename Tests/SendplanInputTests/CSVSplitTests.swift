import Foundation
import SendplanDiagnostics
import SendplanInput
import SendplanModel
import Testing

/// A large CSV file parsed in pieces on several cores reads exactly as in one piece: the same rows
/// in the same order, the same row issues, and the same first error with the same line.
struct SplitCase: Sendable, CustomTestStringConvertible {
  var name: String
  var recipients: String
  var testDescription: String { name }
}

func manyRecipients(_ n: Int, lineEnd: String = "\n", every: Int = 0, special: String = "") -> String {
  var s = "customer_id,enrollment_id,recipient_id,email" + lineEnd
  for i in 0..<n {
    if every > 0 && i % every == every - 1 {
      s += special + lineEnd
    } else {
      s += "acme,e1,r\(i),u\(i)@x.test" + lineEnd
    }
  }
  return s
}

let splitCases: [SplitCase] = [
  SplitCase(name: "plain rows", recipients: manyRecipients(400)),
  SplitCase(name: "CRLF rows", recipients: manyRecipients(400, lineEnd: "\r\n")),
  SplitCase(
    name: "quoted line breaks and doubled quotes",
    recipients: manyRecipients(400, every: 7, special: "acme,e1,\"q\n\"\"x\"\"\n\",\"multi\nline@x.test\"")),
  SplitCase(name: "a row error late in the file", recipients: manyRecipients(400) + "acme,e1,,b@x.test\n"),
  SplitCase(name: "a broken quote late in the file", recipients: manyRecipients(400) + "acme,e1,\"r,b@x.test\n"),
  SplitCase(name: "a field-count error late", recipients: manyRecipients(400) + "acme,e1,r1\n"),
  SplitCase(name: "mixed line ends late", recipients: manyRecipients(300) + manyRecipients(100, lineEnd: "\r\n")),
  SplitCase(name: "bad UTF-8 late", recipients: manyRecipients(400) + "acme,e1,r9,\u{FFFD}@x.test\n"),
  SplitCase(name: "a BOM-like prefix mid-file", recipients: manyRecipients(200) + "\u{FEFF}acme,e1,rb,b@x.test\n"),
]

@Test("a CSV file read in pieces reads as in one", arguments: splitCases)
func splitReadsAsWhole(_ c: SplitCase) throws {
  var text = c.recipients
  if c.name == "bad UTF-8 late" { text = text.replacingOccurrences(of: "\u{FFFD}", with: "\u{1}") }
  let f = try BundleFixture(["recipients.csv": text])
  if c.name == "bad UTF-8 late" {
    var bytes = Array(text.utf8)
    if let k = bytes.firstIndex(of: 0x01) { bytes[k] = 0xFF }
    try f.write("recipients.csv", bytes: bytes)
  }
  func read(_ piece: Int) -> Result<ExportBundle, SendplanErrors> {
    do {
      return .success(try BundleReader.read(path: f.dir.path, pieceBytes: piece))
    } catch {
      return .failure(error)
    }
  }
  let whole = read(1 << 40)
  let pieces = read(64)
  switch (whole, pieces) {
  case (.success(let a), .success(let b)):
    #expect(a.inputs == b.inputs)
    #expect(a.tenants.map(\.recipients) == b.tenants.map(\.recipients))
    #expect(a.tenants.map(\.issues) == b.tenants.map(\.issues))
    #expect(a.tenants.first?.recipients.isEmpty == false)
  case (.failure(let a), .failure(let b)):
    #expect(a.errors == b.errors)
  default:
    Issue.record("one read failed and the other did not: \(whole) vs \(pieces)")
  }
}
