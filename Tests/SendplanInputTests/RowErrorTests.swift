import SendplanInput
import SendplanModel
import Testing

/// A row-level error: it fails the row's tenant only.
struct RowCase: Sendable, CustomTestStringConvertible {
  let file: String
  let content: String
  let code: String
  var testDescription: String { "\(code) in \(file)" }
}

let rowCases: [RowCase] = [
  RowCase(file: "templates.csv", content: "customer_id,template_id,status\nacme,,active\n", code: "missing_field"),
  RowCase(file: "templates.csv", content: "customer_id,template_id,status\nacme,t1,Active\n", code: "unknown_value"),
  RowCase(
    file: "steps.csv", content: "customer_id,sequence_id,step_order,template_id\nacme,s1,0,t1\n", code: "bad_integer"),
  RowCase(
    file: "steps.csv", content: "customer_id,sequence_id,step_order,template_id\nacme,s1,+1,t1\n", code: "bad_integer"),
  RowCase(
    file: "steps.csv", content: "customer_id,sequence_id,step_order,template_id\nacme,s1, 1,t1\n", code: "bad_integer"),
  RowCase(
    file: "steps.csv", content: "customer_id,sequence_id,step_order,template_id\nacme,s1,9223372036854775808,t1\n",
    code: "bad_integer"),
  RowCase(
    file: "recipients.csv",
    content: "customer_id,enrollment_id,recipient_id,email,opted_out\nacme,e1,r1,a@x.test,yes\n",
    code: "bad_boolean"),
  RowCase(
    file: "recipients.csv",
    content: "customer_id,enrollment_id,recipient_id,email,last_step_sent\nacme,e1,r1,a@x.test,-1\n",
    code: "bad_integer"),
  RowCase(
    file: "suppressions.csv", content: "customer_id,type,value,created_at\nacme,email,a@x.test,2026-01-01 00:00:00Z\n",
    code: "bad_timestamp"),
  RowCase(
    file: "suppressions.csv", content: "customer_id,type,value,expires_at\nacme,email,a@x.test,2026-01-01T00:00:00\n",
    code: "bad_timestamp"),
  RowCase(
    file: "suppressions.csv", content: "customer_id,type,value,expires_at\nacme,email,a@x.test,2026-06-30T23:59:60Z\n",
    code: "bad_timestamp"),
  RowCase(file: "suppressions.csv", content: "customer_id,type,value\nacme,Email,a@x.test\n", code: "unknown_value"),
  RowCase(
    file: "enrollments.csv",
    content: "customer_id,enrollment_id,sequence_id,status,batch_id\nacme,e1,s1,active,b\u{7F}\n", code: "bad_id"),
]

@Test("row-level errors fail the tenant with file and line", arguments: rowCases)
func rowLevel(_ c: RowCase) throws {
  let f = try BundleFixture([c.file: c.content])
  let t = try #require(try f.tenant())
  #expect(t.issues.map(\.code) == [c.code])
  #expect(t.issues.first?.file == c.file)
  #expect(t.issues.first?.line == 2)
}

@Test func rowErrorsStayWithTheirTenant() throws {
  let f = try BundleFixture([
    "templates.csv": "customer_id,template_id,status\nacme,t1,active\nbeta,t1,bogus\n"
  ])
  let b = try f.read()
  #expect(b.tenants.map(\.customerID.string) == ["acme", "beta"])
  #expect(b.tenants[0].issues.isEmpty)
  #expect(b.tenants[1].issues.map(\.code) == ["unknown_value"])
}

@Test(
  "integers, booleans and timestamps",
  arguments: [
    ("007", Int64(7)), ("0", 0), ("9223372036854775807", Int64.max),
  ])
func integers(_ s: String, _ v: Int64) {
  #expect(Values.integer(s) == v)
}

@Test(arguments: ["", "-1", "+1", " 1", "1 ", "1.0", "9223372036854775808", "١"])
func badIntegers(_ s: String) {
  #expect(Values.integer(s) == nil)
}

@Test(arguments: [("TRUE", true), ("False", false), ("1", true), ("0", false)])
func booleans(_ s: String, _ v: Bool) {
  #expect(Values.boolean(s) == v)
}

@Test(arguments: ["yes", "t", "", "01", "truee"])
func badBooleans(_ s: String) {
  #expect(Values.boolean(s) == nil)
}
