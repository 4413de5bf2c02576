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
  ])
  func attributeEscaping(_ text: String, _ escaped: String) {
    var out: [UInt8] = []
    XMLEscape.attribute(text, into: &out)
    #expect(String(decoding: out, as: UTF8.self) == escaped)
  }
}
