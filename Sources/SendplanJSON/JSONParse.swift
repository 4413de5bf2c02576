/// A strict JSON reader for sendplan's own files (audit manifests, run.json): integers only, no duplicate keys,
/// nothing after the value. Anything else is reported, never guessed at.
package enum JSONParse {
  /// Where and why the bytes are not acceptable JSON.
  package struct Failure: Error {
    package var offset: Int
    package var message: String
  }

  /// Parses one JSON value spanning all of `bytes`.
  package static func parse(_ bytes: some Collection<UInt8>) throws(Failure) -> JSONValue {
    let a = Array(bytes)
    var p = Parser(b: a, i: 0)
    let v = try p.value(depth: 0)
    p.space()
    guard p.i == a.count else { throw Failure(offset: p.i, message: "unexpected bytes after the JSON value") }
    return v
  }

  private struct Parser {
    let b: [UInt8]
    var i: Int

    mutating func space() {
      while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
    }

    func fail(_ m: String) -> Failure { Failure(offset: i, message: m) }

    mutating func value(depth: Int) throws(Failure) -> JSONValue {
      guard depth < 32 else { throw fail("nested too deeply") }
      space()
      guard i < b.count else { throw fail("unexpected end of input") }
      switch b[i] {
      case 0x7B:
        i += 1
        var o: [String: JSONValue] = [:]
        space()
        if i < b.count, b[i] == 0x7D {
          i += 1
          return .object(o)
        }
        while true {
          space()
          guard i < b.count, b[i] == 0x22 else { throw fail("expected a key") }
          let k = try string()
          space()
          guard i < b.count, b[i] == 0x3A else { throw fail("expected ':'") }
          i += 1
          let v = try value(depth: depth + 1)
          guard o.updateValue(v, forKey: k) == nil else { throw fail("duplicate key \(k.debugDescription)") }
          space()
          guard i < b.count else { throw fail("unterminated object") }
          if b[i] == 0x2C {
            i += 1
            continue
          }
          guard b[i] == 0x7D else { throw fail("expected ',' or '}'") }
          i += 1
          return .object(o)
        }
      case 0x5B:
        i += 1
        var a: [JSONValue] = []
        space()
        if i < b.count, b[i] == 0x5D {
          i += 1
          return .array(a)
        }
        while true {
          a.append(try value(depth: depth + 1))
          space()
          guard i < b.count else { throw fail("unterminated array") }
          if b[i] == 0x2C {
            i += 1
            continue
          }
          guard b[i] == 0x5D else { throw fail("expected ',' or ']'") }
          i += 1
          return .array(a)
        }
      case 0x22:
        return .string(try string())
      case 0x74:
        try word("true")
        return .bool(true)
      case 0x66:
        try word("false")
        return .bool(false)
      case 0x6E:
        try word("null")
        return .null
      case 0x2D, 0x30...0x39:
        let start = i
        if b[i] == 0x2D { i += 1 }
        var v: Int64 = 0
        var digits = 0
        while i < b.count, b[i] >= 0x30, b[i] <= 0x39 {
          let (m, o1) = v.multipliedReportingOverflow(by: 10)
          let (s, o2) = m.addingReportingOverflow(Int64(b[i] - 0x30))
          guard !o1, !o2 else { throw fail("integer out of range") }
          v = s
          digits += 1
          i += 1
        }
        guard digits > 0 else { throw fail("bad number") }
        if i < b.count, b[i] == 0x2E || b[i] == 0x65 || b[i] == 0x45 { throw fail("only integers are allowed") }
        return .int(b[start] == 0x2D ? -v : v)
      default:
        throw fail("unexpected character")
      }
    }

    mutating func word(_ w: StaticString) throws(Failure) {
      let n = w.utf8CodeUnitCount
      guard i + n <= b.count else { throw fail("unexpected end of input") }
      for k in 0..<n where b[i + k] != w.utf8Start[k] { throw fail("unexpected word") }
      i += n
    }

    mutating func string() throws(Failure) -> String {
      i += 1
      var out: [UInt8] = []
      while true {
        guard i < b.count else { throw fail("unterminated string") }
        let c = b[i]
        if c == 0x22 {
          i += 1
          break
        }
        if c < 0x20 { throw fail("control character in string") }
        if c != 0x5C {
          out.append(c)
          i += 1
          continue
        }
        i += 1
        do throws(JSONEscape.Problem) {
          try JSONEscape.decode(b, at: &i, into: &out)
        } catch {
          throw fail(error.description)
        }
      }
      guard let s = String(validating: out, as: UTF8.self) else { throw fail("string is not UTF-8") }
      return s
    }
  }
}

/// Typed access, nil when the value is of another kind.
extension JSONValue {
  package subscript(key: String) -> JSONValue? {
    if case .object(let o) = self { return o[key] }
    return nil
  }

  package var stringValue: String? {
    if case .string(let s) = self { return s }
    return nil
  }

  package var intValue: Int64? {
    if case .int(let v) = self { return v }
    return nil
  }

  package var boolValue: Bool? {
    if case .bool(let v) = self { return v }
    return nil
  }

  package var arrayValue: [JSONValue]? {
    if case .array(let a) = self { return a }
    return nil
  }
}
