import Foundation
import SendplanDiagnostics
import SendplanModel
import Testing

@testable import SendplanInput

/// A file split into many tiny pieces (smaller than a record, cut beside quoted line breaks and
/// CRLF) is cut where a plain serial quote-parity scan says, and its pieces read as the whole file.
struct CutCase: Sendable, CustomTestStringConvertible {
  var name: String
  var text: String
  /// Pieces as small as this many bytes (smaller than a record when it is small).
  var minPiece: Int
  /// How a read in pieces cuts the file when it succeeds: the guessed cuts, or the scan's when a
  /// guessed cut falls inside a quoted field.
  var cuts = TableResult.Cuts.guessed
  var testDescription: String { name }
}

private let head = "customer_id,enrollment_id,recipient_id,email\n"

private func rows(_ n: Int, _ body: (Int) -> String) -> String {
  (0..<n).map(body).joined()
}

let cutCases: [CutCase] = [
  CutCase(
    name: "plain rows, pieces smaller than a record", text: head + rows(60) { "acme,e1,r\($0),u\($0)@x.test\n" },
    minPiece: 5),
  CutCase(
    name: "CRLF rows",
    text: head.replacingOccurrences(of: "\n", with: "\r\n") + rows(60) { "acme,e1,r\($0),u@x.test\r\n" },
    minPiece: 16),
  CutCase(
    name: "quoted line breaks across every boundary",
    text: head + rows(60) { "acme,e1,\"r\n\($0)\n\n\",\"a\nb@x.test\"\n" }, minPiece: 3, cuts: .scanned),
  CutCase(
    name: "doubled quotes beside line breaks",
    text: head + rows(40) { "acme,e1,\"\"\"\n\"\"\($0)\"\"\",x@y.test\n" }, minPiece: 7, cuts: .scanned),
  CutCase(
    name: "a quoted field spanning many pieces",
    text: head + "acme,e1,r0,\"" + String(repeating: "line\n", count: 80) + "\"\n"
      + rows(20) { "acme,e1,r\($0),u@x.test\n" },
    minPiece: 11, cuts: .scanned),
  CutCase(
    name: "a quoted field to the end of the file", text: head + "acme,e1,r0,\"" + String(repeating: "a\n", count: 100),
    minPiece: 9),
  CutCase(
    name: "no line end after the header", text: head + "acme,e1,r1," + String(repeating: "x", count: 300), minPiece: 10),
  CutCase(
    name: "no final line feed", text: head + rows(30) { "acme,e1,r\($0),u@x.test\n" } + "acme,e1,last,z@x.test",
    minPiece: 13),
  CutCase(
    name: "blank lines", text: head + rows(30) { $0 % 3 == 0 ? "\n\n" : "acme,e1,r\($0),u@x.test\n" }, minPiece: 4),
  CutCase(
    name: "an error inside a quoted field across a boundary",
    text: head + rows(20) { "acme,e1,r\($0),u@x.test\n" } + "acme,e1,\"r\nx\"y,b@x.test\n"
      + rows(20) { "acme,e1,s\($0),u@x.test\n" },
    minPiece: 6),
  CutCase(
    name: "a row issue after quoted line breaks",
    text: head + rows(20) { "acme,e1,\"r\n\($0)\",u@x.test\n" } + "acme,e1,,b@x.test\n"
      + rows(20) { "acme,e1,s\($0),u@x.test\n" },
    minPiece: 8, cuts: .scanned),
  CutCase(
    name: "row issues in plain rows, on lines counted across guessed pieces",
    text: head + rows(50) { $0 % 7 == 3 ? "acme,e1,,b\($0)@x.test\n" : "acme,e1,r\($0),u@x.test\n" }, minPiece: 9),
  CutCase(
    name: "a CSV error late in plain rows, on its line counted across guessed pieces",
    text: head + rows(50) { "acme,e1,r\($0),u@x.test\n" } + "acme,e1,r\"x,b@x.test\n"
      + rows(5) { "acme,e1,s\($0),u\n" },
    minPiece: 9),
]

/// The pieces a serial quote-parity scan makes: for each nominal offset `size / count * k`, the first
/// line feed at or after it (and after the previous cut) with an even number of quotes before it,
/// with the line the next byte is on; empty pieces are dropped.
private func serialCuts(_ bytes: [UInt8], count: Int) -> [(Int, Int)] {
  var cuts = [(0, 1)]
  let step = bytes.count / count
  var quotes = 0
  var lines = 1
  for i in 0..<bytes.count where cuts.count < count {
    if bytes[i] == 0x22 { quotes += 1 }
    if bytes[i] == 0x0A {
      lines += 1
      if i >= step * cuts.count && quotes % 2 == 0 { cuts.append((i + 1, lines)) }
    }
  }
  return cuts.filter { $0.0 < bytes.count }
}

@Test("cut points of tiny pieces match a serial quote-parity scan", arguments: cutCases)
func cutPointsMatchSerialScan(_ c: CutCase) throws {
  let f = try BundleFixture(["recipients.csv": c.text])
  let path = f.dir.appendingPathComponent("recipients.csv").path
  let bytes = Array(c.text.utf8)
  let cores = 50
  let count = min(cores * CSVSplit.piecesPerCore, bytes.count / c.minPiece)
  let plan = try CSVSplit.plan(path: path, name: "recipients.csv", cores: cores, minPiece: c.minPiece)
  let expected = serialCuts(bytes, count: count)
  if expected.count < 2 {
    #expect(plan == nil)
  } else {
    let got = plan?.pieces.map { ($0.range.lowerBound, $0.firstLine) } ?? []
    #expect(got.map(\.0) == expected.map(\.0))
    #expect(got.map(\.1) == expected.map(\.1))
    #expect(plan?.pieces.last?.range.upperBound == bytes.count)
  }

  // Many tiny pieces read exactly as the whole file: rows, issues, and the first error.
  func read(_ minPiece: Int) -> Result<TableResult, SendplanError> {
    var r = TableReader(table: .recipients, path: path, name: "recipients.csv", part: 0, filter: nil)
    r.pieceBytes = minPiece
    r.cores = cores
    do {
      return .success(try r.read())
    } catch {
      return .failure(error)
    }
  }
  let pieces = read(c.minPiece)
  if expected.count >= 2, case .success(let b) = pieces { #expect(b.cuts == c.cuts) }
  switch (read(1 << 40), pieces) {
  case (.success(let a), .success(let b)):
    #expect(a.info == b.info)
    #expect(a.header == b.header)
    #expect(a.tenants.keys.sorted() == b.tenants.keys.sorted())
    for (cid, t) in a.tenants {
      #expect(t.recipients == b.tenants[cid]?.recipients)
      #expect(t.issues == b.tenants[cid]?.issues)
    }
  case (.failure(let a), .failure(let b)):
    #expect(a == b)
  case (let a, let b):
    Issue.record("one read failed and the other did not: \(a) vs \(b)")
  }
}
