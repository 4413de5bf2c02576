import SendplanReport
import Testing

@Suite struct XMLEscapeTests {
  /// Text, and how it is written in an attribute value or element text.
  @Test(arguments: [
    ("plain", "plain"), ("&<>\"'", "&amp;&lt;&gt;&quot;&#39;"), ("]]>", "]]&gt;"), ("\t\n\r", "&#9;&#10;&#13;"),
    ("\u{0}", "\u{2400}"), ("\u{7}", "\u{2407}"), ("\u{1F}", "\u{241F}"), ("\u{7F}", "\u{2421}"),
    ("\u{80}", "\u{FFFD}"), ("\u{9F}", "\u{FFFD}"), ("\u{A0}", "\u{A0}"), ("\u{FFFE}", "\u{FFFD}"),
    ("\u{FFFF}", "\u{FFFD}"), ("\u{FFFD}", "\u{FFFD}"), ("é日本😀", "é日本😀"), ("\"\u{301}", "&quot;\u{301}"),
    ("<script>alert('x')</script>", "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"),
    // Plain runs around escapes, and lead bytes 0xC2/0xEF that start characters kept as they are.
    ("a&b<c>d", "a&amp;b&lt;c&gt;d"), ("xé\u{85}y", "xé\u{FFFD}y"), ("©x", "©x"), ("\u{FEFF}z", "\u{FEFF}z"),
    ("ab\u{FFFF}cd\u{7}", "ab\u{FFFD}cd\u{2407}"), ("", ""),
  ])
  func attributeEscaping(_ text: String, _ escaped: String) {
    var out: [UInt8] = []
    XMLEscape.attribute(text, into: &out)
    #expect(String(decoding: out, as: UTF8.self) == escaped)
  }
}
