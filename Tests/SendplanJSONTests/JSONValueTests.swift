import SendplanJSON
import Testing

@Suite struct JSONValueTests {
  static let document = JSONValue.object([
    "b": .array([.int(1), .string("two"), .array([]), .object([:])]),
    "a": .object(["z": .null, "é": .bool(false), "Z": .int(-3)]),
    "c": .string("line\nbreak \"quoted\""),
  ])

  @Test func keysAreSortedByteWiseInBothForms() {
    let compact = String(decoding: Self.document.render(pretty: false), as: UTF8.self)
    #expect(
      compact == #"{"a":{"Z":-3,"z":null,"é":false},"b":[1,"two",[],{}],"c":"line\nbreak \"quoted\""}"#)
    let pretty = String(decoding: Self.document.render(), as: UTF8.self)
    #expect(
      pretty == """
        {
          "a": {
            "Z": -3,
            "z": null,
            "é": false
          },
          "b": [
            1,
            "two",
            [],
            {}
          ],
          "c": "line\\nbreak \\"quoted\\""
        }

        """)
  }

  @Test(arguments: [true, false])
  func renderThenParseGivesTheValue(pretty: Bool) throws {
    #expect(try JSONParse.parse(Self.document.render(pretty: pretty)) == Self.document)
  }

  @Test(arguments: [Int64.min + 1, -1_000_000, -10, -1, 0, 1, 9, 10, 99, 100, 1_795_744_800, Int64.max, Int64.min])
  func integersAreWrittenInDecimal(_ v: Int64) {
    var out = JSONBytes()
    out.int(v)
    #expect(String(decoding: out.bytes, as: UTF8.self) == String(v))
  }
}
