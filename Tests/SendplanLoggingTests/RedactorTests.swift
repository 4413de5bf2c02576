import SendplanLogging
import Testing

@Suite struct RedactorTests {
  @Test func hashRedactionIsKeyedAndStable() {
    let a = Redactor(mode: .hash, key: Array("0123456789abcdef".utf8))
    let b = Redactor(mode: .hash, key: Array("fedcba9876543210".utf8))
    #expect(a.email("Bob@Example.com") == a.email("bob@example.com"))
    #expect(a.email("bob@example.com") != b.email("bob@example.com"))
    #expect(a.email("bob@example.com").hasPrefix("email:") && a.email("bob@example.com").count == 22)
    #expect(Redactor(mode: .mask).scrub("invalid email \"x y@z\" (row 3)") == "invalid email \"x ***@***\" (row 3)")
    #expect(Redactor(mode: .hash).email("bob@example.com") == "***@***", "no key, no hash")
  }

  /// Text as logged, and as each mode shows it.
  @Test(arguments: [
    ("no address here", "no address here"),
    ("a@b.test", "***@***"),
    ("to <a@b.test>, cc (c@d.test); bcc=[e@f.test]", "to <***@***>, cc (***@***); bcc=[***@***]"),
    ("'q@x.test' \"r@y.test\" `s@z.test`", "'***@***' \"***@***\" `***@***`"),
    ("tab\ta@b.test\nnext", "tab\t***@***\nnext"),
    ("{\"email\":\"a@b.test\"}", "{\"email\":\"***@***\"}"),
    ("user@ the @ sign", "***@*** the ***@*** sign"),
    ("é@ü.test and ü", "***@*** and ü"),
  ])
  func maskScrubsEveryWordWithAnAt(_ text: String, _ masked: String) {
    #expect(Redactor(mode: .mask).scrub(text) == masked)
    #expect(Redactor(mode: .none).scrub(text) == text)
    let hashed = Redactor(mode: .hash, key: Array("k".utf8)).scrub(text)
    #expect(!hashed.contains("@"))
    #expect(hashed.contains("email:") == text.contains("@"))
  }

  @Test(arguments: Redaction.allCases)
  func emailOfEachMode(_ mode: Redaction) {
    let r = Redactor(mode: mode, key: Array("0123456789abcdef".utf8))
    let shown = r.email("grace@example.com")
    switch mode {
    case .none: #expect(shown == "grace@example.com")
    case .mask: #expect(shown == "***@***")
    case .hash:
      #expect(shown.hasPrefix("email:") && shown.dropFirst(6).allSatisfy(\.isHexDigit) && shown.count == 22)
      #expect(r.scrub("sent to grace@example.com") == "sent to " + shown, "scrub and email agree")
    }
  }
}
