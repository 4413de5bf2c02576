import SendplanJSON
import SendplanModel

/// A value read for one table column from CSV or JSONL.
enum FieldValue: Equatable {
  /// Empty field, `""`, `null` or a missing key.
  case absent
  /// The value as text: strings as given, `true`/`false`, integer literals as their digits.
  case text(String)
  /// A JSON number with a fraction or exponent: a row-level error in any column.
  case nonInteger(String)
}

/// Parses one JSONL line into the table's columns; anything else in the object is validated and skipped.
struct JSONLineParser {
  enum Failure: Error {
    case invalid(String)
    case notObject
    case nested(column: String)
    case duplicate(column: String)
  }

  let columns: [String: Int]
  private var p: UnsafeBufferPointer<UInt8> = UnsafeBufferPointer(start: nil, count: 0)
  private var i = 0
  private var scratch: [UInt8] = []

  init(columns: [String]) {
    var map: [String: Int] = [:]
    for (k, c) in columns.enumerated() { map[c] = k }
    self.columns = map
  }

  /// Fills `values` (one slot per column, reset to `.absent`) from `line`.
  mutating func parse(_ line: UnsafeBufferPointer<UInt8>, into values: inout [FieldValue]) throws(Failure) {
    for k in values.indices { values[k] = .absent }
    var seen = [Bool](repeating: false, count: values.count)
    p = line
    i = 0
    skipSpace()
    guard i < p.count, p[i] == 0x7B else {
      if i < p.count
        && (p[i] == 0x5B || p[i] == 0x22 || p[i] == 0x74 || p[i] == 0x66 || p[i] == 0x6E || p[i] == 0x2D
          || (p[i] >= 0x30 && p[i] <= 0x39))
      {
        try skipValue(depth: 0)
        skipSpace()
        if i == p.count { throw .notObject }
      }
      throw .invalid("expected a JSON object")
    }
    i += 1
    skipSpace()
    if i < p.count && p[i] == 0x7D {
      i += 1
    } else {
      while true {
        skipSpace()
        guard i < p.count, p[i] == 0x22 else { throw .invalid("expected a quoted key") }
        let key = try parseString()
        skipSpace()
        guard i < p.count, p[i] == 0x3A else { throw .invalid("expected ':' after a key") }
        i += 1
        skipSpace()
        if let col = columns[key] {
          if seen[col] { throw .duplicate(column: key) }
          seen[col] = true
          values[col] = try parseScalar(column: key)
        } else {
          try skipValue(depth: 0)
        }
        skipSpace()
        guard i < p.count else { throw .invalid("unterminated object") }
        if p[i] == 0x2C {
          i += 1
          continue
        }
        if p[i] == 0x7D {
          i += 1
          break
        }
        throw .invalid("expected ',' or '}'")
      }
    }
    skipSpace()
    guard i == p.count else { throw .invalid("unexpected text after the object") }
  }

  private mutating func skipSpace() {
    while i < p.count {
      let c = p[i]
      if c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { i += 1 } else { break }
    }
  }

  private mutating func parseScalar(column: String) throws(Failure) -> FieldValue {
    guard i < p.count else { throw .invalid("missing value") }
    switch p[i] {
    case 0x22:
      let s = try parseString()
      return s.isEmpty ? .absent : .text(s)
    case 0x7B, 0x5B:
      throw .nested(column: column)
    case 0x74:
      try literal("true")
      return .text("true")
    case 0x66:
      try literal("false")
      return .text("false")
    case 0x6E:
      try literal("null")
      return .absent
    default:
      let start = i
      let integer = try parseNumber()
      let text = String(decoding: UnsafeBufferPointer(rebasing: p[start..<i]), as: UTF8.self)
      return integer ? .text(text) : .nonInteger(text)
    }
  }

  private mutating func literal(_ word: StaticString) throws(Failure) {
    let n = word.utf8CodeUnitCount
    guard i + n <= p.count else { throw .invalid("bad literal") }
    let w = word.utf8Start
    for k in 0..<n where p[i + k] != w[k] { throw .invalid("bad literal") }
    i += n
  }

  /// Returns true when the number has no fraction or exponent.
  private mutating func parseNumber() throws(Failure) -> Bool {
    var integer = true
    if i < p.count && p[i] == 0x2D { i += 1 }
    guard i < p.count, p[i] >= 0x30 && p[i] <= 0x39 else { throw .invalid("bad number") }
    if p[i] == 0x30 {
      i += 1
    } else {
      while i < p.count, p[i] >= 0x30 && p[i] <= 0x39 { i += 1 }
    }
    if i < p.count && p[i] == 0x2E {
      integer = false
      i += 1
      guard i < p.count, p[i] >= 0x30 && p[i] <= 0x39 else { throw .invalid("bad number") }
      while i < p.count, p[i] >= 0x30 && p[i] <= 0x39 { i += 1 }
    }
    if i < p.count && (p[i] == 0x65 || p[i] == 0x45) {
      integer = false
      i += 1
      if i < p.count && (p[i] == 0x2B || p[i] == 0x2D) { i += 1 }
      guard i < p.count, p[i] >= 0x30 && p[i] <= 0x39 else { throw .invalid("bad number") }
      while i < p.count, p[i] >= 0x30 && p[i] <= 0x39 { i += 1 }
    }
    return integer
  }

  /// Parses a string starting at the opening quote; the line is already known to be UTF-8.
  private mutating func parseString() throws(Failure) -> String {
    i += 1
    let start = i
    // Fast path: no escapes.
    while i < p.count {
      let c = p[i]
      if c == 0x22 {
        let s = String(decoding: UnsafeBufferPointer(rebasing: p[start..<i]), as: UTF8.self)
        i += 1
        return s
      }
      if c == 0x5C { break }
      if c < 0x20 { throw .invalid("control character inside a string") }
      i += 1
    }
    scratch.removeAll(keepingCapacity: true)
    scratch.append(contentsOf: UnsafeBufferPointer(rebasing: p[start..<i]))
    while i < p.count {
      let c = p[i]
      if c == 0x22 {
        i += 1
        return String(decoding: scratch, as: UTF8.self)
      }
      if c < 0x20 { throw .invalid("control character inside a string") }
      if c != 0x5C {
        scratch.append(c)
        i += 1
        continue
      }
      i += 1
      guard i < p.count else { break }
      do throws(JSONEscape.Problem) {
        try JSONEscape.decode(p, at: &i, into: &scratch)
      } catch {
        throw .invalid(error.description)
      }
    }
    throw .invalid("unterminated string")
  }

  private mutating func skipValue(depth: Int) throws(Failure) {
    guard depth < 512 else { throw .invalid("nesting too deep") }
    guard i < p.count else { throw .invalid("missing value") }
    switch p[i] {
    case 0x22:
      _ = try parseString()
    case 0x7B:
      i += 1
      skipSpace()
      if i < p.count && p[i] == 0x7D {
        i += 1
        return
      }
      while true {
        skipSpace()
        guard i < p.count, p[i] == 0x22 else { throw .invalid("expected a quoted key") }
        _ = try parseString()
        skipSpace()
        guard i < p.count, p[i] == 0x3A else { throw .invalid("expected ':'") }
        i += 1
        skipSpace()
        try skipValue(depth: depth + 1)
        skipSpace()
        guard i < p.count else { throw .invalid("unterminated object") }
        if p[i] == 0x2C {
          i += 1
          continue
        }
        if p[i] == 0x7D {
          i += 1
          return
        }
        throw .invalid("expected ',' or '}'")
      }
    case 0x5B:
      i += 1
      skipSpace()
      if i < p.count && p[i] == 0x5D {
        i += 1
        return
      }
      while true {
        skipSpace()
        try skipValue(depth: depth + 1)
        skipSpace()
        guard i < p.count else { throw .invalid("unterminated array") }
        if p[i] == 0x2C {
          i += 1
          continue
        }
        if p[i] == 0x5D {
          i += 1
          return
        }
        throw .invalid("expected ',' or ']'")
      }
    case 0x74: try literal("true")
    case 0x66: try literal("false")
    case 0x6E: try literal("null")
    default: _ = try parseNumber()
    }
  }
}
