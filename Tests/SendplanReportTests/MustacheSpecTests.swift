import SendplanDiagnostics
import SendplanReport
import Testing

/// One case of the Mustache spec (https://github.com/mustache/spec): a template, its data and the
/// expected output.
struct SpecCase: Sendable, CustomTestStringConvertible {
  let name: String
  let template: String
  let data: MValue
  let expected: String

  init(_ name: String, _ template: String, _ expected: String) {
    self.init(name, template, [:], expected)
  }

  init(_ name: String, _ template: String, _ data: MValue, _ expected: String) {
    self.name = name
    self.template = template
    self.data = data
    self.expected = expected
  }

  var testDescription: String { name }
}

/// The spec's documented cases for interpolation, sections, inverted sections and comments, written
/// from specs/interpolation.yml, sections.yml, inverted.yml and comments.yml (v1.x). `null` in the
/// spec's data is a missing key here. Left out: the triple-mustache and ampersand cases (sendplan
/// refuses unescaped tags) and the decimal cases (reports hold no floating-point values).
enum MustacheSpec {
  static let interpolation: [SpecCase] = [
    SpecCase("No Interpolation", "Hello from {Mustache}!\n", "Hello from {Mustache}!\n"),
    SpecCase("Basic Interpolation", "Hello, {{subject}}!\n", ["subject": "world"], "Hello, world!\n"),
    SpecCase(
      "No Re-interpolation", "{{template}}: {{planet}}", ["template": "{{planet}}", "planet": "Earth"],
      "{{planet}}: Earth"),
    SpecCase(
      "HTML Escaping", "These characters should be HTML escaped: {{forbidden}}\n", ["forbidden": "& \" < >"],
      "These characters should be HTML escaped: &amp; &quot; &lt; &gt;\n"),
    SpecCase("Basic Integer Interpolation", "\"{{mph}} miles an hour!\"", ["mph": 85], "\"85 miles an hour!\""),
    SpecCase("Basic Null Interpolation", "I ({{cannot}}) be seen!", [:], "I () be seen!"),
    SpecCase("Context Miss Interpolation", "I ({{cannot}}) be seen!", [:], "I () be seen!"),
    SpecCase(
      "Dotted Names - Basic Interpolation", "\"{{person.name}}\" == \"{{#person}}{{name}}{{/person}}\"",
      ["person": ["name": "Joe"]], "\"Joe\" == \"Joe\""),
    SpecCase(
      "Dotted Names - Arbitrary Depth", "\"{{a.b.c.d.e.name}}\" == \"Phil\"",
      ["a": ["b": ["c": ["d": ["e": ["name": "Phil"]]]]]], "\"Phil\" == \"Phil\""),
    SpecCase("Dotted Names - Broken Chains", "\"{{a.b.c}}\" == \"\"", ["a": [:]], "\"\" == \"\""),
    SpecCase(
      "Dotted Names - Broken Chain Resolution", "\"{{a.b.c.name}}\" == \"\"",
      ["a": ["b": [:]], "c": ["name": "Jim"]], "\"\" == \"\""),
    SpecCase(
      "Dotted Names - Initial Resolution", "\"{{#a}}{{b.c.d.e.name}}{{/a}}\" == \"Phil\"",
      [
        "a": ["b": ["c": ["d": ["e": ["name": "Phil"]]]]],
        "b": ["c": ["d": ["e": ["name": "Wrong"]]]],
      ], "\"Phil\" == \"Phil\""),
    SpecCase(
      "Dotted Names - Context Precedence", "{{#a}}{{b.c}}{{/a}}", ["a": ["b": [:]], "b": ["c": "ERROR"]], ""),
    SpecCase("Implicit Iterators - Basic Interpolation", "Hello, {{.}}!\n", "world", "Hello, world!\n"),
    SpecCase(
      "Implicit Iterators - HTML Escaping", "These characters should be HTML escaped: {{.}}\n", "& \" < >",
      "These characters should be HTML escaped: &amp; &quot; &lt; &gt;\n"),
    SpecCase(
      "Implicit Iterators - Basic Integer Interpolation", "\"{{.}} miles an hour!\"", 85, "\"85 miles an hour!\""),
    SpecCase("Interpolation - Surrounding Whitespace", "| {{string}} |", ["string": "---"], "| --- |"),
    SpecCase("Interpolation - Standalone", "  {{string}}\n", ["string": "---"], "  ---\n"),
    SpecCase("Interpolation With Padding", "|{{ string }}|", ["string": "---"], "|---|"),
  ]

  static let deeplyNested = """
    {{#a}}
    {{one}}
    {{#b}}
    {{one}}{{two}}{{one}}
    {{#c}}
    {{one}}{{two}}{{three}}{{two}}{{one}}
    {{#d}}
    {{one}}{{two}}{{three}}{{four}}{{three}}{{two}}{{one}}
    {{#five}}
    {{one}}{{two}}{{three}}{{four}}{{five}}{{four}}{{three}}{{two}}{{one}}
    {{one}}{{two}}{{three}}{{four}}{{.}}6{{.}}{{four}}{{three}}{{two}}{{one}}
    {{one}}{{two}}{{three}}{{four}}{{five}}{{four}}{{three}}{{two}}{{one}}
    {{/five}}
    {{one}}{{two}}{{three}}{{four}}{{three}}{{two}}{{one}}
    {{/d}}
    {{one}}{{two}}{{three}}{{two}}{{one}}
    {{/c}}
    {{one}}{{two}}{{one}}
    {{/b}}
    {{one}}
    {{/a}}

    """

  static let deeplyNestedOutput = """
    1
    121
    12321
    1234321
    123454321
    12345654321
    123454321
    1234321
    12321
    121
    1

    """

  static let sections: [SpecCase] = [
    SpecCase(
      "Truthy", "\"{{#boolean}}This should be rendered.{{/boolean}}\"", ["boolean": true],
      "\"This should be rendered.\""),
    SpecCase("Falsey", "\"{{#boolean}}This should not be rendered.{{/boolean}}\"", ["boolean": false], "\"\""),
    SpecCase("Null is falsey", "\"{{#null}}This should not be rendered.{{/null}}\"", [:], "\"\""),
    SpecCase("Context", "\"{{#context}}Hi {{name}}.{{/context}}\"", ["context": ["name": "Joe"]], "\"Hi Joe.\""),
    SpecCase(
      "Parent contexts", "\"{{#sec}}{{a}}, {{b}}, {{c.d}}{{/sec}}\"",
      ["a": "foo", "b": "wrong", "sec": ["b": "bar"], "c": ["d": "baz"]], "\"foo, bar, baz\""),
    SpecCase("Variable test", "\"{{#foo}}{{.}} is {{foo}}{{/foo}}\"", ["foo": "bar"], "\"bar is bar\""),
    SpecCase(
      "List Context",
      "{{#tops}}{{#middles}}{{tname.lower}}{{mname}}.{{#bottoms}}{{tname.upper}}{{mname}}{{bname}}.{{/bottoms}}{{/middles}}{{/tops}}",
      [
        "tops": [
          [
            "tname": ["upper": "A", "lower": "a"],
            "middles": [["mname": "1", "bottoms": [["bname": "x"], ["bname": "y"]]]],
          ]
        ]
      ], "a1.A1x.A1y."),
    SpecCase(
      "Deeply Nested Contexts", deeplyNested,
      ["a": ["one": 1], "b": ["two": 2], "c": ["three": 3, "d": ["four": 4, "five": 5]]], deeplyNestedOutput),
    SpecCase("List", "\"{{#list}}{{item}}{{/list}}\"", ["list": [["item": 1], ["item": 2], ["item": 3]]], "\"123\""),
    SpecCase("Empty List", "\"{{#list}}Yay lists!{{/list}}\"", ["list": []], "\"\""),
    SpecCase(
      "Doubled", "{{#bool}}\n* first\n{{/bool}}\n* {{two}}\n{{#bool}}\n* third\n{{/bool}}\n",
      ["bool": true, "two": "second"], "* first\n* second\n* third\n"),
    SpecCase(
      "Nested (Truthy)", "| A {{#bool}}B {{#bool}}C{{/bool}} D{{/bool}} E |", ["bool": true], "| A B C D E |"),
    SpecCase("Nested (Falsey)", "| A {{#bool}}B {{#bool}}C{{/bool}} D{{/bool}} E |", ["bool": false], "| A  E |"),
    SpecCase("Context Misses", "[{{#missing}}Found key 'missing'!{{/missing}}]", [:], "[]"),
    SpecCase(
      "Implicit Iterator - String", "\"{{#list}}({{.}}){{/list}}\"", ["list": ["a", "b", "c", "d", "e"]],
      "\"(a)(b)(c)(d)(e)\""),
    SpecCase(
      "Implicit Iterator - Integer", "\"{{#list}}({{.}}){{/list}}\"", ["list": [1, 2, 3, 4, 5]],
      "\"(1)(2)(3)(4)(5)\""),
    SpecCase(
      "Implicit Iterator - Array", "\"{{#list}}({{#.}}{{.}}{{/.}}){{/list}}\"",
      ["list": [[1, 2, 3], ["a", "b", "c"]]], "\"(123)(abc)\""),
    SpecCase(
      "Dotted Names - Truthy", "\"{{#a.b.c}}Here{{/a.b.c}}\" == \"Here\"", ["a": ["b": ["c": true]]],
      "\"Here\" == \"Here\""),
    SpecCase(
      "Dotted Names - Falsey", "\"{{#a.b.c}}Here{{/a.b.c}}\" == \"\"", ["a": ["b": ["c": false]]], "\"\" == \"\""),
    SpecCase("Dotted Names - Broken Chains", "\"{{#a.b.c}}Here{{/a.b.c}}\" == \"\"", ["a": [:]], "\"\" == \"\""),
    SpecCase("Surrounding Whitespace", " | {{#boolean}}\t|\t{{/boolean}} | \n", ["boolean": true], " | \t|\t | \n"),
    SpecCase(
      "Internal Whitespace", " | {{#boolean}} {{! Important Whitespace }}\n {{/boolean}} | \n", ["boolean": true],
      " |  \n  | \n"),
    SpecCase(
      "Indented Inline Sections", " {{#boolean}}YES{{/boolean}}\n {{#boolean}}GOOD{{/boolean}}\n",
      ["boolean": true], " YES\n GOOD\n"),
    SpecCase(
      "Standalone Lines", "| This Is\n{{#boolean}}\n|\n{{/boolean}}\n| A Line\n", ["boolean": true],
      "| This Is\n|\n| A Line\n"),
    SpecCase(
      "Indented Standalone Lines", "| This Is\n  {{#boolean}}\n|\n  {{/boolean}}\n| A Line\n", ["boolean": true],
      "| This Is\n|\n| A Line\n"),
    SpecCase("Standalone Line Endings", "|\r\n{{#boolean}}\r\n{{/boolean}}\r\n|", ["boolean": true], "|\r\n|"),
    SpecCase("Standalone Without Previous Line", "  {{#boolean}}\n#{{/boolean}}\n/", ["boolean": true], "#\n/"),
    SpecCase("Standalone Without Newline", "#{{#boolean}}\n/\n  {{/boolean}}", ["boolean": true], "#\n/\n"),
    SpecCase("Padding", "|{{# boolean }}={{/ boolean }}|", ["boolean": true], "|=|"),
  ]

  static let inverted: [SpecCase] = [
    SpecCase(
      "Falsey", "\"{{^boolean}}This should be rendered.{{/boolean}}\"", ["boolean": false],
      "\"This should be rendered.\""),
    SpecCase("Truthy", "\"{{^boolean}}This should not be rendered.{{/boolean}}\"", ["boolean": true], "\"\""),
    SpecCase(
      "Null is falsey", "\"{{^null}}This should be rendered.{{/null}}\"", [:], "\"This should be rendered.\""),
    SpecCase("Context", "\"{{^context}}Hi {{name}}.{{/context}}\"", ["context": ["name": "Joe"]], "\"\""),
    SpecCase("List", "\"{{^list}}{{n}}{{/list}}\"", ["list": [["n": 1], ["n": 2], ["n": 3]]], "\"\""),
    SpecCase("Empty List", "\"{{^list}}Yay lists!{{/list}}\"", ["list": []], "\"Yay lists!\""),
    SpecCase(
      "Doubled", "{{^bool}}\n* first\n{{/bool}}\n* {{two}}\n{{^bool}}\n* third\n{{/bool}}\n",
      ["bool": false, "two": "second"], "* first\n* second\n* third\n"),
    SpecCase(
      "Nested (Falsey)", "| A {{^bool}}B {{^bool}}C{{/bool}} D{{/bool}} E |", ["bool": false], "| A B C D E |"),
    SpecCase("Nested (Truthy)", "| A {{^bool}}B {{^bool}}C{{/bool}} D{{/bool}} E |", ["bool": true], "| A  E |"),
    SpecCase("Context Misses", "[{{^missing}}Found key 'missing'!{{/missing}}]", [:], "[Found key 'missing'!]"),
    SpecCase(
      "Dotted Names - Truthy", "\"{{^a.b.c}}Not Here{{/a.b.c}}\" == \"\"", ["a": ["b": ["c": true]]],
      "\"\" == \"\""),
    SpecCase(
      "Dotted Names - Falsey", "\"{{^a.b.c}}Not Here{{/a.b.c}}\" == \"Not Here\"", ["a": ["b": ["c": false]]],
      "\"Not Here\" == \"Not Here\""),
    SpecCase(
      "Dotted Names - Broken Chains", "\"{{^a.b.c}}Not Here{{/a.b.c}}\" == \"Not Here\"", ["a": [:]],
      "\"Not Here\" == \"Not Here\""),
    SpecCase(
      "Surrounding Whitespace", " | {{^boolean}}\t|\t{{/boolean}} | \n", ["boolean": false], " | \t|\t | \n"),
    SpecCase(
      "Internal Whitespace", " | {{^boolean}} {{! Important Whitespace }}\n {{/boolean}} | \n",
      ["boolean": false], " |  \n  | \n"),
    SpecCase(
      "Indented Inline Sections", " {{^boolean}}NO{{/boolean}}\n {{^boolean}}WAY{{/boolean}}\n",
      ["boolean": false], " NO\n WAY\n"),
    SpecCase(
      "Standalone Lines", "| This Is\n{{^boolean}}\n|\n{{/boolean}}\n| A Line\n", ["boolean": false],
      "| This Is\n|\n| A Line\n"),
    SpecCase(
      "Standalone Indented Lines", "| This Is\n  {{^boolean}}\n|\n  {{/boolean}}\n| A Line\n",
      ["boolean": false], "| This Is\n|\n| A Line\n"),
    SpecCase("Standalone Line Endings", "|\r\n{{^boolean}}\r\n{{/boolean}}\r\n|", ["boolean": false], "|\r\n|"),
    SpecCase("Standalone Without Previous Line", "  {{^boolean}}\n^{{/boolean}}\n/", ["boolean": false], "^\n/"),
    SpecCase("Standalone Without Newline", "^{{^boolean}}\n/\n  {{/boolean}}", ["boolean": false], "^\n/\n"),
    SpecCase("Padding", "|{{^ boolean }}={{/ boolean }}|", ["boolean": false], "|=|"),
  ]

  static let comments: [SpecCase] = [
    SpecCase("Inline", "12345{{! Comment Block! }}67890", "1234567890"),
    SpecCase("Multiline", "12345{{!\n  This is a\n  multi-line comment...\n}}67890\n", "1234567890\n"),
    SpecCase("Standalone", "Begin.\n{{! Comment Block! }}\nEnd.\n", "Begin.\nEnd.\n"),
    SpecCase("Indented Standalone", "Begin.\n  {{! Indented Comment Block! }}\nEnd.\n", "Begin.\nEnd.\n"),
    SpecCase("Standalone Line Endings", "|\r\n{{! Standalone Comment }}\r\n|", "|\r\n|"),
    SpecCase("Standalone Without Previous Line", "  {{! I'm Still Standalone }}\n!", "!"),
    SpecCase("Standalone Without Newline", "!\n  {{! I'm Still Standalone }}", "!\n"),
    SpecCase("Multiline Standalone", "Begin.\n{{!\nSomething's going on here\n}}\nEnd.\n", "Begin.\nEnd.\n"),
    SpecCase(
      "Indented Multiline Standalone", "Begin.\n  {{!\n    Something's going on here\n  }}\nEnd.\n",
      "Begin.\nEnd.\n"),
    SpecCase("Indented Inline", "  12 {{! 34 }}\n", "  12 \n"),
    SpecCase("Surrounding Whitespace", "12345 {{! Comment Block! }} 67890", "12345  67890"),
    SpecCase(
      "Variable Name Collision", "comments never render: {{! comment }}",
      ["! comment": 1, "! comment ": 2, "!comment": 3, "comment": 4], "comments never render: "),
  ]
}

@Suite struct MustacheSpecTests {
  func render(_ c: SpecCase) throws -> String {
    String(decoding: try MustacheProgram(c.template).render(c.data), as: UTF8.self)
  }

  @Test(arguments: MustacheSpec.interpolation) func interpolation(_ c: SpecCase) throws {
    #expect(try render(c) == c.expected)
  }

  @Test(arguments: MustacheSpec.sections) func sections(_ c: SpecCase) throws {
    #expect(try render(c) == c.expected)
  }

  @Test(arguments: MustacheSpec.inverted) func inverted(_ c: SpecCase) throws {
    #expect(try render(c) == c.expected)
  }

  @Test(arguments: MustacheSpec.comments) func comments(_ c: SpecCase) throws {
    #expect(try render(c) == c.expected)
  }

  /// sendplan's own escaping, not the spec's: every value byte by byte, forbidden characters visible.
  @Test(arguments: [
    ("'", "&#39;"), ("\"\u{301}", "&quot;\u{301}"), ("a\u{0}b\u{7}", "a␀b␇"), ("\u{7F}", "␡"),
    ("\u{85}", "\u{FFFD}"), ("\u{FFFE}", "\u{FFFD}"), ("\t\n\r", "&#9;&#10;&#13;"),
  ])
  func valuesAreEscapedForXML(_ value: String, _ expected: String) throws {
    let out = try MustacheProgram("[{{v}}]").render(["v": .string(value)])
    #expect(String(decoding: out, as: UTF8.self) == "[" + expected + "]")
  }

  @Test func setDelimitersChangeTheTags() throws {
    let out = try MustacheProgram("{{=<% %>=}}\n(<%text%>) {{text}}\n<%={{ }}=%>{{text}}").render(["text": "Hey!"])
    #expect(String(decoding: out, as: UTF8.self) == "(Hey!) {{text}}\nHey!")
  }

  @Test(arguments: [
    ("a\n{{{raw}}}", 2, "unescaped"), ("{{& raw}}", 1, "unescaped"), ("x\ny\n{{> part}}", 3, "partials"),
    ("{{< parent}}{{/parent}}", 1, "inheritance"), ("{{$ block}}{{/block}}", 1, "inheritance"),
    ("{{% PRAGMA}}", 1, "pragmas"), ("{{uppercased(name)}}", 1, "transforms"), ("a\n{{#open}}\nb", 2, "never closed"),
    ("{{/close}}", 1, "never opened"), ("{{#a}}\n{{/b}}", 2, "\"a\""), ("{{name", 1, "not closed"),
    ("{{a b}}", 1, "no spaces"), ("{{}}", 1, "no name"), ("{{a..b}}", 1, "empty part"), ("{{=<%=}}", 1, "delimiters"),
  ])
  func unsupportedOrBrokenTagsAreCompileErrors(_ template: String, _ line: Int, _ words: String) {
    let e = #expect(throws: MustacheSyntaxError.self) { try MustacheProgram(template) }
    #expect(e?.line == line, "\(String(describing: e))")
    #expect(e?.message.contains(words) == true, "\(String(describing: e))")
  }

  @Test func anOperatorTemplateWithAnUnsupportedTagFailsToLoadNamingFileAndLine() {
    var files = ReportTemplates.defaultFiles
    files["report.html.mustache"] = "<html>\n<body>\n{{> header}}\n</body></html>"
    let e = #expect(throws: SendplanError.self) { try ReportTemplates(files: files, origin: "/ops/tpl") }
    #expect(e?.code == "template_invalid" && e?.kind == .badData)
    #expect(e?.location?.description == "/ops/tpl/report.html.mustache:3", "\(String(describing: e))")
    #expect(e?.message.contains("partials") == true)
  }
}
