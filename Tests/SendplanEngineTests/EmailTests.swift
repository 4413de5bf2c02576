import SendplanEngine
import Testing

@Test(
  "email syntax check (§3.4, §5)",
  arguments: [
    ("a@x.test", true),
    ("  A@X.Test\t", true),
    (".a@x.test", true),
    ("a..b@x.test", true),
    ("a@x.123", true),
    ("a+tag@sub.x-y.test", true),
    ("a@x", false),
    ("a@@x.test", false),
    ("a@b@x.test", false),
    ("@x.test", false),
    ("a b@x.test", false),
    ("a\"b@x.test", false),
    ("a(b@x.test", false),
    ("a,b@x.test", false),
    ("a:b@x.test", false),
    ("a;b@x.test", false),
    ("a<b@x.test", false),
    ("a[b@x.test", false),
    ("a\\b@x.test", false),
    ("a\u{7F}b@x.test", false),
    ("a@-x.test", false),
    ("a@x-.test", false),
    ("a@x..test", false),
    ("a@.x.test", false),
    ("a@x.test.", false),
    ("a@x_y.test", false),
    ("é@x.test", false),
    ("\u{A0}a@x.test", false),
    ("a@x.tést", false),
    (String(repeating: "a", count: 64) + "@x.test", true),
    (String(repeating: "a", count: 65) + "@x.test", false),
    ("a@" + String(repeating: "b", count: 63) + ".test", true),
    ("a@" + String(repeating: "b", count: 64) + ".test", false),
    ("a@" + String(repeating: "b.", count: 125) + "cd", true),
    ("ab@" + String(repeating: "b.", count: 125) + "cd", false),
  ])
func emailSyntax(_ raw: String, _ valid: Bool) {
  #expect(Email.check(raw).isValid == valid, "\(raw.debugDescription)")
}

@Test func normalisationTrimsAsciiSpaceAndFoldsOnlyAsciiLetters() {
  #expect(Email.normalize(" \t\r\nAbC@X.TEST \u{0B}\u{0C}") == "abc@x.test")
  #expect(Email.normalize("ÄB@X.TEST") == "Äb@x.test")
  #expect(Email.normalize("\u{A0}a@x.test") == "\u{A0}a@x.test")
}
