import SendplanJSON
import Testing

@Suite struct JSONParseTests {
  @Test(arguments: [
    ("null", JSONValue.null), ("true", .bool(true)), (" false ", .bool(false)), ("0", .int(0)), ("-12", .int(-12)),
    ("9223372036854775807", .int(Int64.max)), ("[]", .array([])), ("{}", .object([:])),
    ("[1, [2, []], {\"a\": null}]", .array([.int(1), .array([.int(2), .array([])]), .object(["a": .null])])),
    ("\n\t{\"b\":\"x\",\"a\":[true]}\r\n", .object(["b": .string("x"), "a": .array([.bool(true)])])),
  ])
  func acceptsStrictJSON(_ text: String, _ value: JSONValue) throws {
    #expect(try JSONParse.parse(Array(text.utf8)) == value)
  }

  /// Text that is not acceptable, and what the parser says about it.
  @Test(arguments: [
    ("", "unexpected end of input"), ("1.5", "only integers are allowed"), ("1e3", "only integers are allowed"),
    ("9223372036854775808", "integer out of range"), ("-", "bad number"), ("{\"a\":1,\"a\":2}", "duplicate key \"a\""),
    ("{\"a\":1} x", "unexpected bytes after the JSON value"), ("[1,]", "unexpected character"),
    ("{\"a\" 1}", "expected ':'"), ("{1:2}", "expected a key"), ("[1 2]", "expected ',' or ']'"),
    ("{\"a\":1 \"b\":2}", "expected ',' or '}'"), ("\"abc", "unterminated string"), ("[1", "unterminated array"),
    ("{\"a\":1", "unterminated object"), ("\"a\u{1}b\"", "control character in string"),
    ("nul", "unexpected end of input"),
    ("nulL", "unexpected word"), ("'a'", "unexpected character"),
    (String(repeating: "[", count: 40) + String(repeating: "]", count: 40), "nested too deeply"),
  ])
  func rejectsEverythingElse(_ text: String, _ message: String) {
    do {
      let v = try JSONParse.parse(Array(text.utf8))
      Issue.record("\(text.debugDescription) parsed as \(v)")
    } catch {
      #expect(error.message == message, "\(text.debugDescription)")
      #expect(error.offset >= 0 && error.offset <= text.utf8.count)
    }
  }

  @Test func rejectsBytesThatAreNotUTF8() {
    #expect(throws: JSONParse.Failure.self) { try JSONParse.parse([0x22, 0xC3, 0x28, 0x22]) }
    #expect(throws: JSONParse.Failure.self) { try JSONParse.parse(Array(#""\ud800\udc00""#.utf8) + [0xFF]) }
  }

  @Test func typedAccessIsNilForOtherKinds() throws {
    let v = try JSONParse.parse(Array(#"{"s":"x","i":3,"b":true,"a":[1],"n":null}"#.utf8))
    #expect(v["s"]?.stringValue == "x" && v["s"]?.intValue == nil)
    #expect(v["i"]?.intValue == 3 && v["i"]?.boolValue == nil)
    #expect(v["b"]?.boolValue == true && v["b"]?.arrayValue == nil)
    #expect(v["a"]?.arrayValue == [.int(1)] && v["a"]?.stringValue == nil)
    #expect(v["n"] == .null && v["missing"] == nil && v["s"]?["x"] == nil)
  }
}
