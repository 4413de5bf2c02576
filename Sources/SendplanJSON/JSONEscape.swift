/// The one JSON string escaper and the one escape decoder, shared by every writer and parser
/// (the output writer, the audit record writer, the tree parser, the JSONL reader and the diff reader).
package enum JSONEscape {
  /// Why an escape sequence cannot be decoded.
  package enum Problem: Error, Sendable, CustomStringConvertible {
    /// The input ends inside the escape.
    case truncated
    /// A backslash followed by a character JSON does not allow there.
    case badEscape
    /// `\u` not followed by four hex digits.
    case badUnicodeEscape
    /// A UTF-16 surrogate escape without its other half.
    case loneSurrogate

    package var description: String {
      switch self {
      case .truncated: return "unterminated escape"
      case .badEscape: return "bad escape in a string"
      case .badUnicodeEscape: return "bad \\u escape"
      case .loneSurrogate: return "lone surrogate escape"
      }
    }
  }

  // MARK: - Escaping

  @usableFromInline static let hexDigits: StaticString = "0123456789abcdef"

  /// Whether `c` must be escaped inside a JSON string: `"`, `\` and the C0 controls.
  @inlinable @inline(__always)
  package static func needsEscape(_ c: UInt8) -> Bool { c < 0x20 || c == 0x22 || c == 0x5C }

  /// The exact length of `s` written as a quoted JSON string by ``writeQuoted(_:to:)``.
  @inlinable
  package static func quotedLength(_ s: UnsafeBufferPointer<UInt8>) -> Int {
    var n = s.count + 2
    for c in s where needsEscape(c) { n += escapeLength(c) - 1 }
    return n
  }

  /// 2 for the short escapes (`\"`, `\\`, `\n`, `\r`, `\t`, `\b`, `\f`), 6 for `\u00XX`.
  @inlinable @inline(__always)
  static func escapeLength(_ c: UInt8) -> Int {
    switch c {
    case 0x22, 0x5C, 0x0A, 0x0D, 0x09, 0x08, 0x0C: return 2
    default: return 6
    }
  }

  /// Writes `s` as a quoted JSON string at `dst`, which has room for ``quotedLength(_:)`` bytes, and
  /// returns the bytes written. Only what JSON requires is escaped; other bytes (UTF-8) are copied.
  @inlinable
  package static func writeQuoted(_ s: UnsafeBufferPointer<UInt8>, to dst: UnsafeMutablePointer<UInt8>) -> Int {
    var n = 0
    dst[n] = 0x22
    n += 1
    for c in s {
      if !needsEscape(c) {
        dst[n] = c
        n += 1
        continue
      }
      dst[n] = 0x5C
      switch c {
      case 0x22: dst[n + 1] = 0x22
      case 0x5C: dst[n + 1] = 0x5C
      case 0x0A: dst[n + 1] = 0x6E
      case 0x0D: dst[n + 1] = 0x72
      case 0x09: dst[n + 1] = 0x74
      case 0x08: dst[n + 1] = 0x62
      case 0x0C: dst[n + 1] = 0x66
      default:
        dst[n + 1] = 0x75
        dst[n + 2] = 0x30
        dst[n + 3] = 0x30
        dst[n + 4] = hexDigits.utf8Start[Int(c >> 4)]
        dst[n + 5] = hexDigits.utf8Start[Int(c & 15)]
        n += 4
      }
      n += 2
    }
    dst[n] = 0x22
    return n + 1
  }

  /// ``writeQuoted(_:to:)`` for a caller that has `s`'s ``quotedLength(_:)`` `n` already: when
  /// nothing needs escaping (the usual id or address) the bytes are copied whole between quotes.
  @inlinable
  package static func writeQuoted(_ s: UnsafeBufferPointer<UInt8>, length n: Int, to dst: UnsafeMutablePointer<UInt8>)
    -> Int
  {
    guard n == s.count + 2, let src = s.baseAddress else { return writeQuoted(s, to: dst) }
    dst[0] = 0x22
    (dst + 1).update(from: src, count: s.count)
    dst[n - 1] = 0x22
    return n
  }

  /// `s` as a quoted JSON string, escaped as ``writeQuoted(_:to:)`` does (for text built as a `String`).
  package static func quoted(_ s: String) -> String {
    var s = s
    return s.withUTF8 { p in
      let n = quotedLength(p)
      return String(unsafeUninitializedCapacity: n) { buf in
        guard let base = buf.baseAddress else { return 0 }
        return writeQuoted(p, length: n, to: base)
      }
    }
  }

  // MARK: - Decoding

  /// The value of one hex digit, or nil.
  @inlinable @inline(__always)
  package static func hexValue(_ c: UInt8) -> UInt32? {
    switch c {
    case 0x30...0x39: return UInt32(c - 0x30)
    case 0x41...0x46: return UInt32(c - 0x41 + 10)
    case 0x61...0x66: return UInt32(c - 0x61 + 10)
    default: return nil
    }
  }

  /// Decodes the escape whose backslash is just before `b[i]`, appends its UTF-8 to `out` and moves
  /// `i` past it. A surrogate pair (`\uD83D\uDE00`) is one escape.
  @inlinable
  package static func decode<C: RandomAccessCollection>(_ b: C, at i: inout Int, into out: inout [UInt8])
    throws(Problem) where C.Element == UInt8, C.Index == Int
  {
    guard i < b.endIndex else { throw .truncated }
    let e = b[i]
    i += 1
    switch e {
    case 0x22, 0x5C, 0x2F: out.append(e)
    case 0x62: out.append(0x08)
    case 0x66: out.append(0x0C)
    case 0x6E: out.append(0x0A)
    case 0x72: out.append(0x0D)
    case 0x74: out.append(0x09)
    case 0x75:
      var u = try hex4(b, at: &i)
      if u >= 0xD800 && u < 0xDC00 {
        guard i + 2 <= b.endIndex, b[i] == 0x5C, b[i + 1] == 0x75 else { throw .loneSurrogate }
        i += 2
        let lo = try hex4(b, at: &i)
        guard lo >= 0xDC00 && lo < 0xE000 else { throw .loneSurrogate }
        u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00)
      } else if u >= 0xDC00 && u < 0xE000 {
        throw .loneSurrogate
      }
      appendUTF8(u, to: &out)
    default:
      throw .badEscape
    }
  }

  @inlinable
  static func hex4<C: RandomAccessCollection>(_ b: C, at i: inout Int) throws(Problem) -> UInt32
  where C.Element == UInt8, C.Index == Int {
    guard i + 4 <= b.endIndex else { throw .badUnicodeEscape }
    var v: UInt32 = 0
    for k in 0..<4 {
      guard let h = hexValue(b[i + k]) else { throw .badUnicodeEscape }
      v = v << 4 | h
    }
    i += 4
    return v
  }

  /// Appends the UTF-8 encoding of a scalar value (not a surrogate).
  @inlinable
  package static func appendUTF8(_ v: UInt32, to out: inout [UInt8]) {
    if v < 0x80 {
      out.append(UInt8(v))
    } else if v < 0x800 {
      out.append(UInt8(0xC0 | v >> 6))
      out.append(UInt8(0x80 | v & 0x3F))
    } else if v < 0x10000 {
      out.append(UInt8(0xE0 | v >> 12))
      out.append(UInt8(0x80 | v >> 6 & 0x3F))
      out.append(UInt8(0x80 | v & 0x3F))
    } else {
      out.append(UInt8(0xF0 | v >> 18))
      out.append(UInt8(0x80 | v >> 12 & 0x3F))
      out.append(UInt8(0x80 | v >> 6 & 0x3F))
      out.append(UInt8(0x80 | v & 0x3F))
    }
  }
}
