import Foundation
import SendplanInput
import SendplanModel
import Testing

@Test func jsonlValuesFollowSection5() throws {
  let lines = [
    #"{"customer_id":"acme","enrollment_id":"e1","recipient_id":"r1","email":"a@x.test","opted_out":true,"last_step_sent":7,"extra":{"nested":[1,2]}}"#,
    "",
    "   ",
    #"{"customer_id":"acme","enrollment_id":"e1","recipient_id":"r2","email":"b@x.test","opted_out":null,"last_step_sent":""}"#,
    #"{"customer_id":"acme","enrollment_id":"e1","recipient_id":"r\u00e9\ud83d\ude00","email":"c@x.test","opted_out":"FALSE"}"#,
  ]
  let f = try BundleFixture(["recipients.csv": nil, "recipients.jsonl": lines.joined(separator: "\r\n") + "\n"])
  let t = try #require(try f.tenant())
  #expect(t.issues.isEmpty)
  #expect(t.recipients.map(\.id.string) == ["r1", "r2", "ré😀"])
  #expect(t.recipients.map(\.optedOut) == [true, false, false])
  #expect(t.recipients.map(\.lastStepSent) == [7, 0, 0])
  #expect(t.recipients.map(\.line) == [1, 4, 5])
}

@Test func jsonlNumbersInIdsAreTheirDigits() throws {
  let f = try BundleFixture([
    "templates.csv": nil,
    "templates.jsonl": #"{"customer_id":123,"template_id":-7,"status":"active"}"# + "\n",
  ])
  let t = try #require(try f.tenant("123"))
  #expect(t.templates.map(\.id.string) == ["-7"])
}

struct JSONLCase: Sendable, CustomTestStringConvertible {
  let name: String
  let line: String
  let code: String
  var testDescription: String { name }
}

let jsonlStructural: [JSONLCase] = [
  JSONLCase(name: "invalid JSON", line: #"{"customer_id":"acme","#, code: "jsonl_invalid"),
  JSONLCase(name: "not an object", line: #"["acme"]"#, code: "jsonl_not_object"),
  JSONLCase(
    name: "object in a column", line: #"{"customer_id":"acme","template_id":{"a":1},"status":"active"}"#,
    code: "jsonl_nested_value"),
  JSONLCase(
    name: "array in a column", line: #"{"customer_id":"acme","template_id":[1],"status":"active"}"#,
    code: "jsonl_nested_value"),
  JSONLCase(
    name: "duplicate column key", line: #"{"customer_id":"acme","status":"active","status":"draft","template_id":"t"}"#,
    code: "jsonl_duplicate_key"),
  JSONLCase(
    name: "non-integer customer_id", line: #"{"customer_id":1.5,"template_id":"t","status":"active"}"#,
    code: "bad_customer_id"),
  JSONLCase(
    name: "missing customer_id", line: #"{"customer_id":null,"template_id":"t","status":"active"}"#,
    code: "missing_customer_id"),
  JSONLCase(
    name: "lone surrogate", line: #"{"customer_id":"\ud800","template_id":"t","status":"active"}"#,
    code: "jsonl_invalid"),
  JSONLCase(
    name: "trailing text", line: #"{"customer_id":"acme","template_id":"t","status":"active"} x"#, code: "jsonl_invalid"
  ),
  JSONLCase(
    name: "raw control character in string",
    line: "{\"customer_id\":\"a\u{1}\",\"template_id\":\"t\",\"status\":\"active\"}", code: "jsonl_invalid"),
]

@Test("structural JSONL errors", arguments: jsonlStructural)
func jsonlStructuralErrors(_ c: JSONLCase) throws {
  let f = try BundleFixture(["templates.csv": nil, "templates.jsonl": "\n" + c.line + "\n"])
  let errors = f.errors()
  #expect(errors.map(\.code) == [c.code])
  #expect(errors.first?.line == 2)
  #expect(errors.first?.path == "templates.jsonl")
}

@Test func nonIntegerNumberInAColumnIsARowError() throws {
  let f = try BundleFixture([
    "templates.csv": nil,
    "templates.jsonl": #"{"customer_id":"acme","template_id":"t1","status":"active","name":2.5}"# + "\n",
  ])
  let t = try #require(try f.tenant())
  #expect(t.issues.map(\.code) == ["bad_number"])
  #expect(t.issues.map(\.line) == [1])
}
