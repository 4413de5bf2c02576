import Foundation
import SendplanCLI
import SendplanTestSupport
import Testing

#if canImport(FoundationXML)
  import FoundationXML
#endif

@Suite struct ReportTests {
  @Test func sampleReportsMatchGoldenFiles() throws {
    let out = try tempDir().appendingPathComponent("out")
    #expect(sendplan(["run", "--input", sampleBundle, "--out", out.path, "--as-of", sampleAsOf]).code == 0)
    let golden = goldenFolder.appendingPathComponent("reports")
    for tenant in ["acme", "globex"] {
      let folder = try tenantFolder(out, tenant)
      for kind in ["html", "xml"] {
        let actual = try Data(contentsOf: out.appendingPathComponent("tenants/\(folder ?? "?")/report.\(kind)"))
        let expected = try Data(contentsOf: golden.appendingPathComponent("\(tenant).report.\(kind)"))
        // Regenerate the golden files with scripts/regen-golden.
        #expect(actual == expected, "\(tenant) report.\(kind) differs from Golden/reports; \(regenHint)")
      }
    }
  }

  /// Ids, emails and reasons carrying markup, quotes, `]]>`, control and non-BMP characters.
  @Test func hostileValuesStayText() throws {
    let evil = "<script>alert('x')</script>"
    // A quote followed by a combining accent is one Character: escaping must work on bytes.
    let customer = "ev\"\u{301}il&<b>]]>😀"
    // Byte-wise, because a quote with a combining accent is one Character.
    func q(_ s: String) -> String {
      var b: [UInt8] = [0x22]
      for c in s.utf8 { b += c == 0x22 ? [0x22, 0x22] : [c] }
      return String(decoding: b + [0x22], as: UTF8.self)
    }
    let c = q(customer)
    let e = q(evil)
    let input = try bundle([
      "identities.csv":
        "customer_id,identity_id,status,from_email,display_name\n\(c),id<1>,verified,a@b.test,\"<i>N</i>\"\n",
      "templates.csv": "customer_id,template_id,status,name,subject\n\(c),t]]>,active,\"<h1>x</h1>\",\(e)\n",
      "sequences.csv": "customer_id,sequence_id,status,identity_id,name\n\(c),s1,active,id<1>,n\n",
      "steps.csv": "customer_id,sequence_id,step_order,template_id\n\(c),s1,1,t]]>\n\(c),s-missing,1,t]]>\n",
      "enrollments.csv": "customer_id,enrollment_id,sequence_id,status,identity_id,batch_id\n\(c),\(e),s1,active,,\n",
      "recipients.csv":
        "customer_id,enrollment_id,recipient_id,email,opted_out,last_step_sent\n"
        + "\(c),\(e),r'1,\"x\u{7}<img src=x onerror=alert(1)>@example.com\",false,0\n"
        + "\(c),\(e),\(q("r\"2")),ok@example.com,false,0\n"
        + "\(c),no-such,r3,o@example.com,false,0\n",
      "suppressions.jsonl": "",
      "batches.csv": nil,
    ])
    let out = try tempDir().appendingPathComponent("out")
    let r = sendplan(["run", "--input", input.path, "--out", out.path, "--as-of", sampleAsOf])
    #expect(r.code == 0, "\(r.err)")
    let folders = try FileManager.default.contentsOfDirectory(atPath: out.path + "/tenants")
    #expect(folders.count == 1)
    let dir = out.path + "/tenants/" + (folders.first ?? "?")
    let check = sendplan(["check-report", dir + "/report.xml", dir + "/report.html"])
    #expect(check.code == 0, "\(check.out)")
    for name in ["report.xml", "report.html"] {
      let text = try String(contentsOfFile: dir + "/" + name, encoding: .utf8)
      for raw in ["<script>alert", "<img src", "<b>]]>", "]]><", "\u{7}", "\"\u{301}"] {
        #expect(!text.contains(raw), "\(name) contains raw \(raw.debugDescription)")
      }
      #expect(text.contains("&lt;script&gt;"), "\(name)")
      #expect(text.contains("😀"), "non-BMP characters are kept")
      #expect(text.contains("\u{2407}"), "the BEL control character is shown as ␇")
    }
    // The XML round-trips: a parser reads back exactly the (visibly replaced) values.
    let doc = try XMLDocument(contentsOf: URL(fileURLWithPath: dir + "/report.xml"))
    let root = try #require(doc.rootElement())
    #expect(root.attributes?.first { $0.name == "customerId" }?.stringValue == customer)
    let enrollment = try #require(try root.nodes(forXPath: "//*[local-name()='enrollment']").first as? XMLElement)
    #expect(enrollment.attributes?.first { $0.name == "id" }?.stringValue == evil)
    let emails = try root.nodes(forXPath: "//*[local-name()='enrollment']/*[local-name()='recipient']/@email")
      .compactMap(\.stringValue)
    #expect(emails.contains("x\u{2407}<img src=x onerror=alert(1)>@example.com"))
  }

  @Test func noTenantSeesAnotherTenantsData() throws {
    let out = try tempDir().appendingPathComponent("out")
    #expect(sendplan(["run", "--input", sampleBundle, "--out", out.path, "--as-of", sampleAsOf]).code == 0)
    var emails: [String: Set<String>] = [:]
    let rows = try String(contentsOfFile: sampleBundle + "/recipients.csv", encoding: .utf8).split(separator: "\n")
    for row in rows.dropFirst() {
      let f = row.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
      // Trimmed: acme's " ada.lovelace@example.com " contains globex's address as text.
      if f.count > 3, f[3].contains("@") {
        emails[f[0], default: []].insert(f[3].trimmingCharacters(in: .whitespaces))
      }
    }
    #expect(emails.keys.sorted() == ["acme", "globex"])
    for (tenant, other) in [("acme", "globex"), ("globex", "acme")] {
      let foreign = (emails[other] ?? []).subtracting(emails[tenant] ?? [])
      let folder = try tenantFolder(out, tenant)
      for kind in ["html", "xml"] {
        let text = try String(
          contentsOfFile: out.path + "/tenants/\(folder ?? "?")/report.\(kind)", encoding: .utf8)
        for e in foreign { #expect(!text.contains(e), "\(tenant) report.\(kind) shows \(other)'s \(e)") }
        #expect(!text.contains("\"\(other)\""), "\(tenant) report.\(kind) names \(other)")
      }
    }
  }

  @Test func invalidTemplateOutputFailsTheRunAndPublishesNothing() throws {
    let templates = try tempDir("tpl")
    // A template that produces markup that is not well-formed XHTML.
    try "<html><body><p>{{customerId}}</body></html>".write(
      to: templates.appendingPathComponent("report.html.mustache"), atomically: true, encoding: .utf8)
    let out = try tempDir().appendingPathComponent("out")
    let r = sendplan([
      "run", "--input", sampleBundle, "--out", out.path, "--as-of", sampleAsOf, "--templates", templates.path,
    ])
    #expect(r.code == 70, "\(r.err)")
    #expect(r.err.contains("report.html:1") && r.err.contains("not well-formed"), "\(r.err)")
    #expect(!FileManager.default.fileExists(atPath: out.path))
  }

  @Test func reportRerendersFromReportXMLWithoutReplanning() throws {
    // One planned and one failed tenant, audited, so every part of the header is exercised.
    let input = try bundle([
      "batches.csv": "customer_id,batch_id,status\nacme,b1,paused\nglobex,b9,paused\nglobex,b9,active\n"
    ])
    let root = try tempDir("rerender")
    let out = root.appendingPathComponent("out")
    let r = sendplan([
      "run", "--input", input.path, "--out", out.path, "--as-of", sampleAsOf, "--audit-dir", root.path + "/audit",
    ])
    #expect(r.code == 1, "\(r.err)")
    let before = try tree(out)
    #expect(before.keys.filter { $0.hasSuffix("report.html") }.count == 2)
    let again = sendplan(["report", "--out", out.path])
    #expect(again.code == 0, "\(again.err)")
    #expect(again.out.contains("rendered 2 report.html"))
    #expect(try tree(out) == before, "re-rendering with the same templates changes nothing")

    let templates = try tempDir("tpl")
    try
      "<html xmlns=\"http://www.w3.org/1999/xhtml\"><body><p>Brand {{customerId}} {{#planned}}{{items}}{{/planned}}</p></body></html>"
      .write(to: templates.appendingPathComponent("report.html.mustache"), atomically: true, encoding: .utf8)
    #expect(sendplan(["report", "--out", out.path, "--templates", templates.path]).code == 0)
    let after = try tree(out)
    let acme = try #require(after.first { $0.key.hasPrefix("tenants/acme-") && $0.key.hasSuffix("report.html") })
    #expect(String(decoding: acme.value, as: UTF8.self).contains("Brand acme 49"))
    for (k, v) in before where !k.hasSuffix("report.html") { #expect(after[k] == v, "\(k) must not change") }
  }

  @Test func operatorTemplatesAreUsed() throws {
    let templates = try tempDir("tpl")
    try "<html xmlns=\"http://www.w3.org/1999/xhtml\"><body><p>Brand: {{customerId}}</p></body></html>".write(
      to: templates.appendingPathComponent("report.html.mustache"), atomically: true, encoding: .utf8)
    let out = try tempDir().appendingPathComponent("out")
    let r = sendplan([
      "run", "--input", sampleBundle, "--out", out.path, "--as-of", sampleAsOf, "--templates", templates.path,
    ])
    #expect(r.code == 0, "\(r.err)")
    let folder = try tenantFolder(out, "acme")
    let html = try String(contentsOfFile: out.path + "/tenants/\(folder ?? "?")/report.html", encoding: .utf8)
    #expect(html.contains("Brand: acme"))
  }
}
