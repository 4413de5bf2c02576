import SendplanJSON
import SendplanModel

#if canImport(Glibc)
  import Glibc
#endif

/// A string value inside a parsed line, kept as a byte range until it is needed.
struct Slice: Equatable {
  var start: Int32
  var end: Int32
  /// True when the raw bytes hold a backslash escape.
  var escaped: Bool

  static let none = Slice(start: -1, end: -1, escaped: false)
  var isPresent: Bool { start >= 0 }
}

/// One item of a dry-run line, as byte ranges into the line buffer.
struct RawItem {
  var recipientId = Slice.none
  var email = Slice.none
  var status = Slice.none
  var reason = Slice.none
  var templateId = Slice.none
  var identityId = Slice.none
  var stepOrder: Int64 = 0
}

/// One dry-run line: `{"data":{"enrollmentId","plannedAt","items","errors"}}`.
struct RawLine {
  var bytes: [UInt8] = []
  var enrollmentId = Slice.none
  var plannedAt = Slice.none
  var errors: [Slice] = []
  var items: [RawItem] = []

  /// Decoded text of a slice.
  func text(_ s: Slice) -> String? {
    guard s.isPresent else { return nil }
    let raw = bytes[Int(s.start)..<Int(s.end)]
    if !s.escaped { return String(decoding: raw, as: UTF8.self) }
    return JSONUnescape.decode(raw)
  }

  /// Compares two string values byte-wise (-1, 0, 1), decoding only when one holds an escape.
  /// An absent value sorts before any present one.
  static func compare(_ la: RawLine, _ a: Slice, _ lb: RawLine, _ b: Slice) -> Int {
    if !a.isPresent || !b.isPresent { return a.isPresent == b.isPresent ? 0 : (a.isPresent ? 1 : -1) }
    if a.escaped || b.escaped {
      let x = la.decodedBytes(a)
      let y = lb.decodedBytes(b)
      return x == y ? 0 : (x.lexicographicallyPrecedes(y) ? -1 : 1)
    }
    let na = Int(a.end - a.start)
    let nb = Int(b.end - b.start)
    let c = la.bytes.withUnsafeBufferPointer { pa in
      lb.bytes.withUnsafeBufferPointer { pb -> Int32 in
        guard let ba = pa.baseAddress, let bb = pb.baseAddress, min(na, nb) > 0 else { return 0 }
        return memcmp(ba + Int(a.start), bb + Int(b.start), min(na, nb))
      }
    }
    if c != 0 { return c < 0 ? -1 : 1 }
    return na == nb ? 0 : (na < nb ? -1 : 1)
  }

  /// Decoded bytes of a slice, for byte-wise comparison.
  func decodedBytes(_ s: Slice) -> [UInt8] {
    guard s.isPresent else { return [] }
    let raw = bytes[Int(s.start)..<Int(s.end)]
    if !s.escaped { return Array(raw) }
    return Array((JSONUnescape.decode(raw) ?? "").utf8)
  }
}

enum JSONUnescape {
  /// The decoded text of a string's raw bytes, or nil when an escape is broken.
  static func decode(_ raw: ArraySlice<UInt8>) -> String? {
    var out: [UInt8] = []
    out.reserveCapacity(raw.count)
    var i = raw.startIndex
    while i < raw.endIndex {
      let c = raw[i]
      i += 1
      guard c == 0x5C else {
        out.append(c)
        continue
      }
      do throws(JSONEscape.Problem) {
        try JSONEscape.decode(raw, at: &i, into: &out)
      } catch {
        return nil
      }
    }
    return String(decoding: out, as: UTF8.self)
  }
}

/// A strict, allocation-light parser for dry-run lines. Unknown keys are skipped.
struct DryRunLineParser {
  enum Failure: Error { case bad(String) }

  private var p: UnsafeBufferPointer<UInt8> = UnsafeBufferPointer(start: nil, count: 0)
  private var i = 0

  mutating func parse(_ line: inout RawLine) throws(Failure) {
    line.enrollmentId = .none
    line.plannedAt = .none
    line.errors.removeAll(keepingCapacity: true)
    line.items.removeAll(keepingCapacity: true)
    var result: Failure? = nil
    line.bytes.withUnsafeBufferPointer { buf in
      p = buf
      i = 0
      do throws(Failure) {
        try parseTop(&line)
      } catch {
        result = error
      }
    }
    if let result { throw result }
  }

  private mutating func ws() {
    while i < p.count, p[i] == 0x20 || p[i] == 0x09 || p[i] == 0x0D || p[i] == 0x0A { i += 1 }
  }

  private mutating func expect(_ c: UInt8, _ what: String) throws(Failure) {
    ws()
    guard i < p.count, p[i] == c else { throw .bad("expected \(what)") }
    i += 1
  }

  private mutating func peek(_ c: UInt8) -> Bool {
    ws()
    return i < p.count && p[i] == c
  }

  private mutating func string() throws(Failure) -> Slice {
    ws()
    guard i < p.count, p[i] == 0x22 else { throw .bad("expected a string") }
    i += 1
    let start = i
    var escaped = false
    while i < p.count {
      let c = p[i]
      if c == 0x22 {
        let s = Slice(start: Int32(start), end: Int32(i), escaped: escaped)
        i += 1
        return s
      }
      if c == 0x5C {
        escaped = true
        i += 2
        continue
      }
      if c < 0x20 { throw .bad("control character in a string") }
      i += 1
    }
    throw .bad("unterminated string")
  }

  private mutating func key() throws(Failure) -> Slice {
    let k = try string()
    try expect(0x3A, "':'")
    return k
  }

  private func keyIs(_ k: Slice, _ name: StaticString) -> Bool {
    let n = name.utf8CodeUnitCount
    guard !k.escaped, Int(k.end - k.start) == n else { return false }
    let base = name.utf8Start
    for j in 0..<n where p[Int(k.start) + j] != base[j] { return false }
    return true
  }

  private mutating func integer() throws(Failure) -> Int64 {
    ws()
    var v: Int64 = 0
    var neg = false
    if i < p.count && p[i] == 0x2D {
      neg = true
      i += 1
    }
    let start = i
    while i < p.count, p[i] >= 0x30 && p[i] <= 0x39 {
      let (m, o1) = v.multipliedReportingOverflow(by: 10)
      let (a, o2) = m.addingReportingOverflow(Int64(p[i] - 0x30))
      if o1 || o2 { throw .bad("integer out of range") }
      v = a
      i += 1
    }
    guard i > start else { throw .bad("expected an integer") }
    if i < p.count && (p[i] == 0x2E || p[i] == 0x65 || p[i] == 0x45) { throw .bad("expected an integer") }
    return neg ? -v : v
  }

  private mutating func skipValue(depth: Int = 0) throws(Failure) {
    guard depth < 64 else { throw .bad("nesting too deep") }
    ws()
    guard i < p.count else { throw .bad("missing value") }
    switch p[i] {
    case 0x22: _ = try string()
    case 0x7B:
      i += 1
      if peek(0x7D) {
        i += 1
        return
      }
      repeat {
        _ = try key()
        try skipValue(depth: depth + 1)
      } while try commaOr(0x7D)
    case 0x5B:
      i += 1
      if peek(0x5D) {
        i += 1
        return
      }
      repeat { try skipValue(depth: depth + 1) } while try commaOr(0x5D)
    default:
      let start = i
      while i < p.count, !(p[i] == 0x2C || p[i] == 0x7D || p[i] == 0x5D || p[i] == 0x20) { i += 1 }
      let word = Array(p[start..<i])
      let ok =
        word == Array("true".utf8) || word == Array("false".utf8) || word == Array("null".utf8)
        || (!word.isEmpty
          && word.allSatisfy {
            ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D || $0 == 0x2B || $0 == 0x2E || $0 == 0x65 || $0 == 0x45
          })
      if !ok { throw .bad("invalid value") }
    }
  }

  /// After a member: true on ',', false on the closing bracket.
  private mutating func commaOr(_ close: UInt8) throws(Failure) -> Bool {
    ws()
    guard i < p.count else { throw .bad("unexpected end of line") }
    if p[i] == 0x2C {
      i += 1
      return true
    }
    if p[i] == close {
      i += 1
      return false
    }
    throw .bad("expected ',' or a closing bracket")
  }

  private mutating func parseTop(_ line: inout RawLine) throws(Failure) {
    try expect(0x7B, "'{'")
    var sawData = false
    if !peek(0x7D) {
      repeat {
        let k = try key()
        if keyIs(k, "data") {
          sawData = true
          try parseData(&line)
        } else {
          try skipValue()
        }
      } while try commaOr(0x7D)
    } else {
      i += 1
    }
    ws()
    guard i == p.count else { throw .bad("unexpected text after the object") }
    guard sawData, line.enrollmentId.isPresent else { throw .bad("no data.enrollmentId") }
  }

  private mutating func parseData(_ line: inout RawLine) throws(Failure) {
    try expect(0x7B, "'{'")
    if peek(0x7D) {
      i += 1
      return
    }
    repeat {
      let k = try key()
      if keyIs(k, "enrollmentId") {
        line.enrollmentId = try string()
      } else if keyIs(k, "plannedAt") {
        line.plannedAt = try string()
      } else if keyIs(k, "errors") {
        try expect(0x5B, "'['")
        if peek(0x5D) {
          i += 1
        } else {
          repeat { line.errors.append(try string()) } while try commaOr(0x5D)
        }
      } else if keyIs(k, "items") {
        try expect(0x5B, "'['")
        if peek(0x5D) {
          i += 1
        } else {
          repeat { line.items.append(try item()) } while try commaOr(0x5D)
        }
      } else {
        try skipValue()
      }
    } while try commaOr(0x7D)
  }

  private mutating func item() throws(Failure) -> RawItem {
    var it = RawItem()
    var sawOrder = false
    try expect(0x7B, "'{'")
    if peek(0x7D) { throw .bad("empty item") }
    repeat {
      let k = try key()
      if keyIs(k, "recipientId") {
        it.recipientId = try string()
      } else if keyIs(k, "email") {
        it.email = try string()
      } else if keyIs(k, "status") {
        it.status = try string()
      } else if keyIs(k, "reason") {
        it.reason = try string()
      } else if keyIs(k, "templateId") {
        it.templateId = try string()
      } else if keyIs(k, "identityId") {
        it.identityId = try string()
      } else if keyIs(k, "stepOrder") {
        it.stepOrder = try integer()
        sawOrder = true
      } else {
        try skipValue()
      }
    } while try commaOr(0x7D)
    guard it.recipientId.isPresent, it.status.isPresent, sawOrder else {
      throw .bad("an item lacks recipientId, status or stepOrder")
    }
    return it
  }
}
