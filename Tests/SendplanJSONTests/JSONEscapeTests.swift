import SendplanJSON
import Testing

/// The bytes of `s` written as a quoted JSON string.
func quoted(_ s: String) -> [UInt8] {
  var out = JSONBytes()
  out.string(s)
  return out.bytes
}

@Suite struct JSONEscapeTests {
  /// Strings that must come back unchanged from escaping then parsing.
  static let roundTrips: [String] = [
    "", "plain", "say \"hi\"", "back\\slash", "\\\"", "/ stays /", "\u{0}", "\u{1}\u{2}\u{1F}",
    "\n\r\t\u{8}\u{C}", "tab\tin the middle", "\u{7F} is not escaped", "é ü ß ø", "日本語", "😀", "𝄞 and 😀 together",
    "\u{FFFD}\u{FEFF}", "e\u{301}", "mixed \"😀\"\n\\u0041 is text",
  ]

  @Test(arguments: roundTrips)
  func escapeThenParseGivesTheString(_ s: String) throws {
    let bytes = quoted(s)
    #expect(try JSONParse.parse(bytes) == .string(s), "\(String(decoding: bytes, as: UTF8.self))")
    // Only what JSON requires is escaped: no raw control character, non-ASCII bytes as they are.
    #expect(!bytes.contains { $0 < 0x20 })
    #expect(bytes.filter { $0 >= 0x80 } == Array(s.utf8).filter { $0 >= 0x80 })
    var s = s
    let length = s.withUTF8 { JSONEscape.quotedLength($0) }
    #expect(length == bytes.count)
  }

  /// The exact escapes written, per character.
  @Test(arguments: [
    ("\"", #""\"""#), ("\\", #""\\""#), ("\n", #""\n""#), ("\r", #""\r""#), ("\t", #""\t""#), ("\u{8}", #""\b""#),
    ("\u{C}", #""\f""#), ("\u{0}", #""\u0000""#), ("\u{1F}", #""\u001f""#), ("\u{1B}", #""\u001b""#),
    ("/", #""/""#), ("é", "\"é\""), ("😀", "\"😀\""), ("\u{7F}", "\"\u{7F}\""),
  ])
  func writesTheShortestEscape(_ s: String, _ json: String) {
    #expect(String(decoding: quoted(s), as: UTF8.self) == json)
  }

  /// The `String` form (the diff's JSON, the crash journal) is the same escaper's bytes.
  @Test(arguments: roundTrips)
  func theStringFormIsTheSameEscape(_ s: String) {
    #expect(Array(JSONEscape.quoted(s).utf8) == quoted(s))
  }

  /// JSON text written by others, with every escape JSON allows.
  @Test(arguments: [
    (#""\u00e9""#, "é"), (#""\u00E9""#, "é"), (#""\ud83d\ude00""#, "😀"), (#""\uD834\uDD1E""#, "𝄞"), (#""\/""#, "/"),
    (#""\b\f\n\r\t""#, "\u{8}\u{C}\n\r\t"), (#""\u0000""#, "\u{0}"), (#""a\"b\\c""#, "a\"b\\c"),
    (#""\u65e5\u672c""#, "日本"),
  ])
  func decodesEveryEscape(_ json: String, _ expected: String) throws {
    #expect(try JSONParse.parse(Array(json.utf8)) == .string(expected))
  }

  /// What follows a backslash, and why it cannot be decoded.
  @Test(arguments: [
    ("", JSONEscape.Problem.truncated), ("x", .badEscape), ("'", .badEscape), ("U0041", .badEscape),
    ("0", .badEscape), ("u", .badUnicodeEscape), ("u12", .badUnicodeEscape), ("u12G4", .badUnicodeEscape),
    ("u-123", .badUnicodeEscape), ("uD83D", .loneSurrogate), ("uD83Dx", .loneSurrogate),
    ("uD83D\\n", .loneSurrogate), ("uD83D\\u0041", .loneSurrogate), ("uD83D\\uD83D", .loneSurrogate),
    ("uDE00", .loneSurrogate), ("uDFFF", .loneSurrogate), ("uD83D\\u12", .badUnicodeEscape),
  ])
  func badEscapesFailWithTheirProblem(_ afterBackslash: String, _ problem: JSONEscape.Problem) {
    let bytes = Array(afterBackslash.utf8)
    var i = 0
    var out: [UInt8] = []
    #expect(throws: problem) { try JSONEscape.decode(bytes, at: &i, into: &out) }
    // The parser reports the same problem, in words.
    let json = Array("\"\\".utf8) + bytes + Array("\"".utf8)
    do {
      _ = try JSONParse.parse(json)
      Issue.record("\(afterBackslash.debugDescription) was accepted")
    } catch {
      // A truncated escape inside a string reads the closing quote as the escaped character.
      if problem != .truncated { #expect(error.message == problem.description) }
    }
  }

  @Test func decodeMovesPastTheEscapeOnly() throws {
    let bytes = Array(#"ud83d\ude00rest"#.utf8)
    var i = 0
    var out: [UInt8] = []
    try JSONEscape.decode(bytes, at: &i, into: &out)
    #expect(out == Array("😀".utf8))
    #expect(i == 11 && bytes[i...].elementsEqual("rest".utf8))
  }
}
