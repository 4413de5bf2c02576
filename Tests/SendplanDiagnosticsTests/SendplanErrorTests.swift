import SendplanDiagnostics
import Testing

/// A place an error may name, how it is shown, and the description of an error there.
struct LocationCase: Sendable, CustomTestStringConvertible {
  let path: String
  let line: Int?
  /// `location?.description`, nil for no location.
  let location: String?
  let expectedLine: Int?
  let description: String
  var testDescription: String { "path \(path.debugDescription), line \(line.map(String.init) ?? "nil")" }
}

/// A cause with a fixed description.
struct Cause: Error, Sendable, CustomStringConvertible {
  let text: String
  var description: String { text }
}

@Suite struct SendplanErrorTests {
  static let locations: [LocationCase] = [
    LocationCase(
      path: "steps.csv", line: 4, location: "steps.csv:4", expectedLine: 4,
      description: "steps.csv:4: bad row [csv_bad] (fix: mend it)"),
    LocationCase(
      path: "steps.csv", line: nil, location: "steps.csv", expectedLine: nil,
      description: "steps.csv: bad row [csv_bad] (fix: mend it)"),
    // Line 0 (and below) means the file as a whole.
    LocationCase(
      path: "steps.csv", line: 0, location: "steps.csv", expectedLine: nil,
      description: "steps.csv: bad row [csv_bad] (fix: mend it)"),
    LocationCase(
      path: "steps.csv", line: -3, location: "steps.csv", expectedLine: nil,
      description: "steps.csv: bad row [csv_bad] (fix: mend it)"),
    LocationCase(
      path: "/a b/c.jsonl", line: 1, location: "/a b/c.jsonl:1", expectedLine: 1,
      description: "/a b/c.jsonl:1: bad row [csv_bad] (fix: mend it)"),
    // An empty path means no location, whatever the line.
    LocationCase(path: "", line: 7, location: nil, expectedLine: nil, description: "bad row [csv_bad] (fix: mend it)"),
    LocationCase(
      path: "", line: nil, location: nil, expectedLine: nil, description: "bad row [csv_bad] (fix: mend it)"),
  ]

  @Test(arguments: locations)
  func locationAndDescription(_ c: LocationCase) {
    let e = SendplanError(.badData, code: "csv_bad", path: c.path, line: c.line, message: "bad row", fix: "mend it")
    #expect(e.location?.description == c.location)
    #expect(e.path == c.path)
    #expect(e.line == c.expectedLine)
    #expect(e.location?.line == c.expectedLine)
    #expect(e.description == c.description)
    #expect("\(e)" == c.description)
  }

  @Test func causeIsShownAndComparedByItsDescription() {
    let plain = SendplanError(.io, code: "write_failed", path: "f", message: "write failed", fix: "free space")
    var caused = plain
    caused.cause = Cause(text: "ENOSPC")
    #expect(caused.description == "f: write failed [write_failed] (fix: free space) (cause: ENOSPC)")
    #expect(caused != plain)
    var same = plain
    same.cause = Cause(text: "ENOSPC")
    #expect(caused == same)
    same.cause = Cause(text: "EIO")
    #expect(caused != same)
  }

  @Test(arguments: SendplanError.Kind.allCases)
  func errorsDifferingOnlyInKindAreDifferent(_ kind: SendplanError.Kind) {
    #expect(SendplanError.Kind(rawValue: kind.rawValue) == kind)
    let a = SendplanError(kind, code: "c", message: "m", fix: "f")
    for other in SendplanError.Kind.allCases {
      let b = SendplanError(other, code: "c", message: "m", fix: "f")
      #expect((a == b) == (kind == other), "\(kind) vs \(other)")
    }
    #expect(a.description == "m [c] (fix: f)", "the kind is not part of the text")
  }

  @Test func everyFieldTakesPartInEquality() {
    let base = SendplanError(.missing, code: "c", path: "p", line: 2, message: "m", fix: "f")
    #expect(base == SendplanError(.missing, code: "c", path: "p", line: 2, message: "m", fix: "f"))
    let others = [
      SendplanError(.missing, code: "d", path: "p", line: 2, message: "m", fix: "f"),
      SendplanError(.missing, code: "c", path: "q", line: 2, message: "m", fix: "f"),
      SendplanError(.missing, code: "c", path: "p", line: 3, message: "m", fix: "f"),
      SendplanError(.missing, code: "c", path: "p", message: "m", fix: "f"),
      SendplanError(.missing, code: "c", path: "p", line: 2, message: "n", fix: "f"),
      SendplanError(.missing, code: "c", path: "p", line: 2, message: "m", fix: "g"),
    ]
    for o in others { #expect(o != base, "\(o)") }
    #expect(SendplanErrors([base, others[0]]).errors == [base, others[0]])
  }
}
