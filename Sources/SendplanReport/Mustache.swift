/// A value the report template can see: plain, typed data, so that rendering needs no dynamic casts.
package enum MValue: Sendable, Equatable {
  case string(String)
  case int(Int)
  case bool(Bool)
  case list([MValue])
  case object(MFields)
}

/// The fields of a view-model object, in the order they were set.
///
/// A few fields per object, looked up by the template's names: a linear scan of short keys beats
/// hashing, and building one costs an array append per field rather than a hash table.
package struct MFields: Sendable, Equatable, ExpressibleByDictionaryLiteral {
  var keys: [String]
  var values: [MValue]

  package init() {
    keys = []
    values = []
  }

  package init(dictionaryLiteral elements: (String, MValue)...) {
    self.init(elements)
  }

  /// Literal keys are written once each, so no search is needed (a lookup takes the first).
  init(_ elements: [(String, MValue)]) {
    keys = []
    values = []
    keys.reserveCapacity(elements.count)
    values.reserveCapacity(elements.count)
    for (k, v) in elements {
      keys.append(k)
      values.append(v)
    }
  }

  /// The value of `key`, which is `count` UTF-8 bytes long.
  ///
  /// Lengths are compared first: a key of another length is passed over without a string
  /// comparison, and unequal strings are the slow case of `==`.
  @inline(__always)
  func value(_ key: String, count: Int) -> MValue? {
    var i = 0
    let n = keys.count
    while i < n {
      if keys[i].utf8.count == count, keys[i] == key { return values[i] }
      i += 1
    }
    return nil
  }

  /// The value of `key`; setting a key that is present replaces its value.
  package subscript(key: String) -> MValue? {
    get { value(key, count: key.utf8.count) }
    set {
      if let i = keys.firstIndex(of: key) {
        if let newValue {
          values[i] = newValue
        } else {
          keys.remove(at: i)
          values.remove(at: i)
        }
      } else if let newValue {
        keys.append(key)
        values.append(newValue)
      }
    }
  }

  /// Equal when they hold the same keys with equal values, in any order.
  package static func == (a: MFields, b: MFields) -> Bool {
    a.keys.count == b.keys.count && zip(a.keys, a.values).allSatisfy { b[$0.0] == $0.1 }
  }
}

extension MValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
  ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
  package init(stringLiteral value: String) { self = .string(value) }
  package init(integerLiteral value: Int) { self = .int(value) }
  package init(booleanLiteral value: Bool) { self = .bool(value) }
  package init(arrayLiteral elements: MValue...) { self = .list(elements) }
  package init(dictionaryLiteral elements: (String, MValue)...) {
    self = .object(MFields(elements))
  }
}

/// A Mustache template that did not compile: what is wrong, at which 1-based line.
package struct MustacheSyntaxError: Error, Sendable, Equatable {
  package let line: Int
  package let message: String
}

/// A Mustache template compiled once into a program of ops, rendered straight into bytes.
///
/// Supported: text, escaped variables (`{{name}}`, dotted names, the implicit iterator `{{.}}`),
/// sections (`{{#name}}…{{/name}}`), inverted sections (`{{^name}}…{{/name}}`), comments
/// (`{{! … }}`) and set-delimiter tags (`{{=<% %>=}}`), with the spec's standalone-line rules.
/// Every variable is escaped byte by byte with `XMLEscape.attribute`. Unescaped variables
/// (`{{{name}}}`, `{{& name}}`), partials, blocks and parents, pragmas and transforms are refused
/// at compile time.
///
/// Sections follow swift-mustache, which rendered the reports before: `true` renders the body
/// once, `false` and a missing name not at all; a list renders the body once per element (an
/// empty list not at all); any other value (a string, a number, an object, zero included) renders
/// the body once with that value pushed on the context stack. An inverted section renders
/// exactly when its section would not.
package struct MustacheProgram: Sendable {
  indirect enum Op: Sendable {
    case text([UInt8])
    case variable(Name)
    case section(Name, [Op])
    case inverted(Name, [Op])
  }

  /// A tag's name: `.` (no parts) is the top of the context stack; `a.b.c` is looked up part by part.
  struct Name: Sendable {
    let first: String?
    let firstCount: Int
    let rest: [String]

    init(_ text: String) {
      if text == "." {
        first = nil
        firstCount = 0
        rest = []
      } else {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        first = parts[0]
        firstCount = parts[0].utf8.count
        rest = Array(parts.dropFirst())
      }
    }
  }

  let ops: [Op]

  /// Compiles `source`; throws the first syntax error with its line.
  package init(_ source: String) throws(MustacheSyntaxError) {
    var parser = Parser(Array(source.utf8))
    ops = try parser.parse()
  }

  /// Renders the program with `root` as the bottom of the context stack.
  package func render(_ root: MValue) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(64 * 1024)
    var stack: [MValue] = [root]
    Self.run(ops, &stack, &out)
    return out
  }

  static func run(_ ops: [Op], _ stack: inout [MValue], _ out: inout [UInt8]) {
    for op in ops {
      switch op {
      case .text(let bytes): out.append(contentsOf: bytes)
      case .variable(let name):
        switch lookup(name, stack) {
        case .string(let s): XMLEscape.attribute(s, into: &out)
        case .int(let i): XMLEscape.attribute(String(i), into: &out)
        case .bool(let b): out.append(contentsOf: b ? trueBytes : falseBytes)
        case .list, .object, nil: break
        }
      case .section(let name, let body):
        switch lookup(name, stack) {
        case nil, .bool(false): break
        case .bool(true): run(body, &stack, &out)
        case .list(let items):
          for item in items {
            stack.append(item)
            run(body, &stack, &out)
            stack.removeLast()
          }
        case let value?:
          stack.append(value)
          run(body, &stack, &out)
          stack.removeLast()
        }
      case .inverted(let name, let body):
        switch lookup(name, stack) {
        case nil, .bool(false): run(body, &stack, &out)
        case .list(let items) where items.isEmpty: run(body, &stack, &out)
        default: break
        }
      }
    }
  }

  static let trueBytes = Array("true".utf8)
  static let falseBytes = Array("false".utf8)

  /// The spec's lookup: the first part in the innermost context that has it, the rest strictly inside it.
  static func lookup(_ name: Name, _ stack: [MValue]) -> MValue? {
    guard let first = name.first else { return stack.last }
    var found: MValue?
    // Innermost first, by index: iterating `reversed()` would copy every context it passes.
    var i = stack.count - 1
    while i >= 0 {
      if case .object(let fields) = stack[i], let v = fields.value(first, count: name.firstCount) {
        found = v
        break
      }
      i -= 1
    }
    for part in name.rest {
      guard case .object(let fields)? = found else { return nil }
      found = fields[part]
    }
    return found
  }
}

extension MustacheProgram {
  /// A one-pass parser: tags are found with the current delimiters, standalone lines are trimmed
  /// as the spec says, and sections nest through an explicit stack.
  struct Parser {
    let src: [UInt8]
    var pos = 0
    var open = Array("{{".utf8)
    var close = Array("}}".utf8)
    /// Open sections: kind, name, the line of the opening tag, and the ops before it.
    var frames: [(inverted: Bool, name: String, line: Int, outer: [Op])] = []
    var ops: [Op] = []
    var text: [UInt8] = []

    init(_ src: [UInt8]) { self.src = src }

    func lineOf(_ offset: Int) -> Int {
      var n = 1
      for i in 0..<min(offset, src.count) where src[i] == 0x0A { n += 1 }
      return n
    }

    func fail(_ offset: Int, _ message: String) -> MustacheSyntaxError {
      MustacheSyntaxError(line: lineOf(offset), message: message)
    }

    func matches(_ d: [UInt8], at i: Int) -> Bool {
      guard i + d.count <= src.count else { return false }
      for k in 0..<d.count where src[i + k] != d[k] { return false }
      return true
    }

    func find(_ d: [UInt8], from i: Int) -> Int? {
      var j = i
      while j + d.count <= src.count {
        if matches(d, at: j) { return j }
        j += 1
      }
      return nil
    }

    static func isBlank(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 }

    static func trim(_ s: ArraySlice<UInt8>) -> String {
      var s = s
      while let c = s.first, isBlank(c) || c == 0x0A || c == 0x0D { s.removeFirst() }
      while let c = s.last, isBlank(c) || c == 0x0A || c == 0x0D { s.removeLast() }
      return String(decoding: s, as: UTF8.self)
    }

    mutating func flushText() {
      if !text.isEmpty {
        ops.append(.text(text))
        text = []
      }
    }

    mutating func parse() throws(MustacheSyntaxError) -> [Op] {
      while pos < src.count {
        guard let start = find(open, from: pos) else {
          text.append(contentsOf: src[pos...])
          break
        }
        text.append(contentsOf: src[pos..<start])
        try tag(at: start)
      }
      if let frame = frames.last {
        throw MustacheSyntaxError(line: frame.line, message: "section \"\(frame.name)\" is never closed")
      }
      flushText()
      return ops
    }

    /// Reads the tag at `start`, appends its op, and moves `pos` past it (and past its line when standalone).
    mutating func tag(at start: Int) throws(MustacheSyntaxError) {
      let bodyStart = start + open.count
      guard bodyStart < src.count else { throw fail(start, "a tag is not closed") }
      let sigil = src[bodyStart]
      var end: Int
      var inner: ArraySlice<UInt8>
      if sigil == UInt8(ascii: "{") {
        throw fail(start, "unescaped variables ({{{name}}}) are not supported: sendplan escapes every value")
      }
      guard let e = find(close, from: bodyStart) else { throw fail(start, "a tag is not closed") }
      end = e + close.count
      inner = src[bodyStart..<e]
      let trimmed = Self.trim(inner)
      let kind = trimmed.first ?? " "
      let name = Self.trim(ArraySlice(trimmed.utf8.dropFirst()))
      switch kind {
      case "!":
        standalone(start, end)
      case "=":
        guard trimmed.count >= 2, trimmed.last == "=" else { throw fail(start, "a set-delimiter tag must end with =") }
        let spec = trimmed.dropFirst().dropLast().split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard spec.count == 2, !spec[0].contains("="), !spec[1].contains("=") else {
          throw fail(start, "a set-delimiter tag needs two delimiters, as in {{=<% %>=}}")
        }
        standalone(start, end)
        open = Array(spec[0].utf8)
        close = Array(spec[1].utf8)
      case "#", "^":
        try checkName(name, start)
        standalone(start, end)
        flushText()
        frames.append((kind == "^", name, lineOf(start), ops))
        ops = []
      case "/":
        try checkName(name, start)
        guard let frame = frames.popLast() else { throw fail(start, "\"\(name)\" is closed but was never opened") }
        guard frame.name == name else {
          throw fail(start, "\"\(name)\" is closed but the open section is \"\(frame.name)\" (line \(frame.line))")
        }
        standalone(start, end)
        flushText()
        let body = ops
        ops = frame.outer
        ops.append(frame.inverted ? .inverted(Name(name), body) : .section(Name(name), body))
      case "&":
        throw fail(start, "unescaped variables ({{& name}}) are not supported: sendplan escapes every value")
      case ">":
        throw fail(start, "partials ({{> name}}) are not supported")
      case "<", "$":
        throw fail(start, "template inheritance ({{< name}}, {{$ name}}) is not supported")
      case "%":
        throw fail(start, "pragmas ({{% ...}}) are not supported")
      default:
        try checkName(trimmed, start)
        flushText()
        ops.append(.variable(Name(trimmed)))
        pos = end
      }
    }

    func checkName(_ name: String, _ start: Int) throws(MustacheSyntaxError) {
      guard !name.isEmpty else { throw fail(start, "a tag has no name") }
      if name == "." { return }
      for c in name.utf8 {
        switch c {
        case 0x20, 0x09, 0x0A, 0x0D:
          throw fail(start, "\"\(name)\" is not a name: names have no spaces")
        case UInt8(ascii: "("), UInt8(ascii: ")"):
          throw fail(start, "\"\(name)\": transforms are not supported")
        case UInt8(ascii: "{"), UInt8(ascii: "}"):
          throw fail(start, "\"\(name)\" is not a name")
        default: continue
        }
      }
      if name.split(separator: ".", omittingEmptySubsequences: false).contains(where: \.isEmpty) {
        throw fail(start, "\"\(name)\" is not a name: a dotted name has an empty part")
      }
    }

    /// Moves `pos` past the tag ending at `end`; when the tag stands alone on its line, also drops the
    /// line's leading blanks (already in `text`) and its trailing blanks and line break.
    mutating func standalone(_ start: Int, _ end: Int) {
      pos = end
      var lineStart = start
      while lineStart > 0, Self.isBlank(src[lineStart - 1]) { lineStart -= 1 }
      guard lineStart == 0 || src[lineStart - 1] == 0x0A else { return }
      var after = end
      while after < src.count, Self.isBlank(src[after]) { after += 1 }
      if after == src.count {
      } else if src[after] == 0x0A {
        after += 1
      } else if src[after] == 0x0D, after + 1 < src.count, src[after + 1] == 0x0A {
        after += 2
      } else {
        return
      }
      text.removeLast(start - lineStart)
      pos = after
    }
  }
}
