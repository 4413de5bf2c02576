import Foundation
import SendplanDiagnostics
import SendplanEngine
import SendplanInput
import SendplanModel
import Testing

/// A bundle whose recipients are a folder of part files, as warehouse unloads write them.
func partsFixture(_ parts: [String: String]) throws -> BundleFixture {
  let f = try BundleFixture(["recipients.csv": nil])
  let dir = f.dir.appendingPathComponent("recipients")
  try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  for (name, content) in parts { try Data(content.utf8).write(to: dir.appendingPathComponent(name)) }
  return f
}

let recipientsHeader = "customer_id,enrollment_id,recipient_id,email\n"

@Test func partFilesReadAsOneTableInNameOrder() throws {
  let f = try partsFixture([
    "part-00001.csv": recipientsHeader + "acme,e1,r2,b@x.test\n",
    "part-00000.csv": recipientsHeader + "acme,e1,r1,a@x.test\n",
    "_SUCCESS": "",
  ])
  let b = try f.read()
  #expect(
    b.inputs.filter { $0.table == .recipients }.map(\.name) == [
      "recipients/part-00000.csv", "recipients/part-00001.csv",
    ])
  #expect(b.ignored == ["recipients/_SUCCESS"])
  let t = try #require(b.tenants.first)
  #expect(t.recipients.map(\.id.string) == ["r1", "r2"])
  #expect(t.location(.recipients, t.recipients[1].line) == ("recipients/part-00001.csv", 2))
}

@Test func splittingATableChangesNoPlannedItem() throws {
  let rows = (1...9).map { "acme,e1,r\($0),u\($0)@x.test\n" }
  let whole = try BundleFixture(["recipients.csv": recipientsHeader + rows.joined()])
  let split = try partsFixture([
    "part-0.csv": recipientsHeader + rows[0..<4].joined(),
    "part-1.csv": recipientsHeader + rows[4...].joined(),
  ])
  let asOf = Timestamp(seconds: 1_800_000_000)
  let ta = try #require(try whole.tenant())
  let tb = try #require(try split.tenant())
  let a = try Planner.plan(ta, asOf: asOf).get()
  let b = try Planner.plan(tb, asOf: asOf).get()
  #expect(a.enrollments.map(\.items) == b.enrollments.map(\.items))
}

@Test func aDuplicateKeyAcrossPartsNamesBothParts() throws {
  let f = try partsFixture([
    "part-0.csv": recipientsHeader + "acme,e1,r1,a@x.test\n",
    "part-1.csv": recipientsHeader + "acme,e1,r1,a@x.test\n",
  ])
  let t = try #require(try f.tenant())
  let issues = Planner.issues(of: t)
  #expect(issues.map(\.file) == ["recipients/part-1.csv"])
  #expect(issues.first?.line == 2)
  #expect(issues.first?.message.contains("recipients/part-0.csv line 2") == true)
}

/// Structural problems of table folders: what is wrong and the location the error names.
struct PartErrorCase: Sendable, CustomTestStringConvertible {
  var name: String
  var parts: [String: String]
  var extraFile: Bool = false
  var code: String
  var path: String
  var line: Int?
  var testDescription: String { name }
}

let partErrorCases: [PartErrorCase] = [
  PartErrorCase(
    name: "headers differ",
    parts: ["a.csv": recipientsHeader, "b.csv": "customer_id,recipient_id,enrollment_id,email\n"],
    code: "part_header_mismatch", path: "recipients/b.csv", line: 1),
  PartErrorCase(
    name: "formats mixed", parts: ["a.csv": recipientsHeader, "b.jsonl": ""], code: "mixed_part_formats",
    path: "recipients/", line: nil),
  PartErrorCase(name: "no parts", parts: ["_SUCCESS": ""], code: "missing_table", path: "recipients/", line: nil),
  PartErrorCase(
    name: "folder and file", parts: ["a.csv": recipientsHeader], extraFile: true, code: "duplicate_table",
    path: "recipients/, recipients.csv", line: nil),
  PartErrorCase(
    name: "broken quote in a part", parts: ["a.csv": recipientsHeader, "b.csv": recipientsHeader + "acme,\"e1\n"],
    code: "csv_unterminated_quote", path: "recipients/b.csv", line: 2),
]

@Test("table folder errors name the part file and line", arguments: partErrorCases)
func partErrors(_ c: PartErrorCase) throws {
  let f = try partsFixture(c.parts)
  if c.extraFile { try f.write("recipients.csv", bytes: Array(recipientsHeader.utf8)) }
  let errors = f.errors()
  #expect(errors.map(\.code) == [c.code])
  #expect(errors.first?.path == c.path)
  #expect(errors.first?.line == c.line)
}

@Test func aShardFilterDropsOtherTenantsRowsAsTheyAreRead() throws {
  let f = try BundleFixture([
    "recipients.csv": recipientsHeader + "acme,e1,r1,a@x.test\nglobex,e1,r1,b@x.test\nglobex,e1,r2,c@x.test\n"
  ])
  let asked = AskedIDs()
  let b = try BundleReader.read(
    path: f.dir.path,
    filter: TenantFilter {
      asked.add($0); return $0 == ID("acme")
    })
  #expect(b.tenants.map(\.customerID) == [ID("acme")])
  #expect(b.tenantsDropped == 1)
  #expect(b.inputs.first { $0.table == .recipients }?.rows == 3, "every row still counts")
  #expect(asked.ids.sorted() == [ID("acme"), ID("globex")], "one decision per customer id")
}

/// Records the ids a filter was asked about.
final class AskedIDs: @unchecked Sendable {
  private let lock = NSLock()
  private var list: [ID] = []
  func add(_ id: ID) { lock.withLock { list.append(id) } }
  var ids: [ID] { lock.withLock { list } }
}
