/// Appends JSON text to a byte buffer. Strings are escaped minimally and deterministically:
/// `"` `\` and U+0000–U+001F are escaped (`\n`, `\r`, `\t`, `\b`, `\f`, else `\u00XX`); all other
/// characters, including non-ASCII, are written as raw UTF-8.
package struct JSONBytes {
  package var bytes: [UInt8] = []

  package init(capacity: Int = 0) {
    bytes.reserveCapacity(capacity)
  }

  @inline(__always)
  package mutating func raw(_ s: StaticString) {
    bytes.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
  }

  package mutating func raw(_ s: String) {
    bytes.append(contentsOf: s.utf8)
  }

  package mutating func int(_ v: Int64) { Self.appendDecimal(v, to: &bytes) }

  /// Appends `v` in decimal to `out`, without a `String`; the report writer uses it too.
  package static func appendDecimal(_ v: Int64, to out: inout [UInt8]) {
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { tmp in
      guard let base = tmp.baseAddress else { return }
      out.append(contentsOf: UnsafeBufferPointer(start: base, count: writeDecimal(v, to: base)))
    }
  }

  /// Writes `v` in decimal at `dst`, which has room for 20 bytes, and returns the bytes written.
  /// The one decimal writer: the pointer buffers of the dry runs and the audit use it too.
  @inlinable
  package static func writeDecimal(_ v: Int64, to dst: UnsafeMutablePointer<UInt8>) -> Int {
    var n = 0
    if v < 0 {
      dst[0] = 0x2D
      n = 1
    }
    var x = v.magnitude
    var digits = 1
    var t = x
    while t >= 10 {
      t /= 10
      digits += 1
    }
    var i = n + digits - 1
    repeat {
      dst[i] = UInt8(truncatingIfNeeded: x % 10) + 0x30
      x /= 10
      i -= 1
    } while x > 0
    return n + digits
  }

  /// Writes `s` as a quoted JSON string (``JSONEscape``).
  package mutating func string(_ s: String) {
    var s = s
    s.withUTF8 { p in
      let n = JSONEscape.quotedLength(p)
      let old = bytes.count
      bytes.append(contentsOf: repeatElement(0, count: n))
      bytes.withUnsafeMutableBufferPointer { out in
        guard let base = out.baseAddress else { return }
        _ = JSONEscape.writeQuoted(p, length: n, to: base + old)
      }
    }
  }
}

/// A JSON document tree whose objects always serialise with keys sorted byte-wise.
package indirect enum JSONValue: Sendable, Equatable {
  case null
  case bool(Bool)
  case int(Int64)
  case string(String)
  case array([JSONValue])
  case object([String: JSONValue])

  /// Pretty-printed with two-space indents and a trailing newline.
  package func render(pretty: Bool = true) -> [UInt8] {
    var out = JSONBytes()
    write(&out, indent: pretty ? 0 : -1)
    if pretty { out.bytes.append(0x0A) }
    return out.bytes
  }

  private func newline(_ out: inout JSONBytes, _ indent: Int) {
    guard indent >= 0 else { return }
    out.bytes.append(0x0A)
    out.bytes.append(contentsOf: repeatElement(0x20, count: indent * 2))
  }

  func write(_ out: inout JSONBytes, indent: Int) {
    let inner = indent >= 0 ? indent + 1 : -1
    switch self {
    case .null: out.raw("null")
    case .bool(let b): b ? out.raw("true") : out.raw("false")
    case .int(let v): out.int(v)
    case .string(let s): out.string(s)
    case .array(let a):
      if a.isEmpty {
        out.raw("[]")
        return
      }
      out.raw("[")
      for (k, v) in a.enumerated() {
        if k > 0 { out.raw(",") }
        newline(&out, inner)
        v.write(&out, indent: inner)
      }
      newline(&out, indent)
      out.raw("]")
    case .object(let o):
      if o.isEmpty {
        out.raw("{}")
        return
      }
      out.raw("{")
      let keys = o.keys.sorted { a, b in a.utf8.lexicographicallyPrecedes(b.utf8) }
      for (k, key) in keys.enumerated() {
        if k > 0 { out.raw(",") }
        newline(&out, inner)
        out.string(key)
        out.raw(indent >= 0 ? ": " : ":")
        o[key]?.write(&out, indent: inner)
      }
      newline(&out, indent)
      out.raw("}")
    }
  }
}
