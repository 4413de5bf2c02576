/// Text made safe for XML 1.0 and XHTML.
///
/// Characters XML 1.0 forbids, and other control characters, are replaced by something visible
/// rather than dropped: C0 controls by their Control Pictures symbol (U+2400 + code, so NUL shows
/// as ␀), DEL by ␡, C1 controls and U+FFFE/U+FFFF by U+FFFD. Tab, line feed and carriage return
/// are written as character references, so they survive attribute-value normalisation.
package enum XMLEscape {
  /// Appends `s` escaped for a double-quoted attribute value; also correct as element text.
  package static func attribute(_ s: String, into out: inout [UInt8]) {
    var s = s
    s.withUTF8 { attribute($0, into: &out) }
  }

  /// ``attribute(_:into:)`` for UTF-8 bytes.
  package static func attribute(_ p: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
    var i = 0
    var run = 0  // start of the bytes not yet copied that need no escaping
    let n = p.count
    while i < n {
      let c = p[i]
      // Most bytes are plain: copy them in runs, not one by one.
      if c >= 0x20 && c != 0x7F && c != 0x26 && c != 0x3C && c != 0x3E && c != 0x22 && c != 0x27 && c != 0xC2
        && c != 0xEF
      {
        i += 1
        continue
      }
      if run < i { out.append(contentsOf: UnsafeBufferPointer(rebasing: p[run..<i])) }
      switch c {
      case 0x26: out.append(contentsOf: amp)
      case 0x3C: out.append(contentsOf: lt)
      case 0x3E: out.append(contentsOf: gt)
      case 0x22: out.append(contentsOf: quot)
      case 0x27: out.append(contentsOf: apos)
      case 0x09: out.append(contentsOf: tab)
      case 0x0A: out.append(contentsOf: lf)
      case 0x0D: out.append(contentsOf: cr)
      case 0x00...0x1F: appendScalar(0x2400 + UInt32(c), &out)
      case 0x7F: appendScalar(0x2421, &out)
      case 0xC2 where i + 1 < n && p[i + 1] >= 0x80 && p[i + 1] <= 0x9F:
        appendScalar(0xFFFD, &out)
        i += 1
      case 0xEF where i + 2 < n && p[i + 1] == 0xBF && (p[i + 2] == 0xBE || p[i + 2] == 0xBF):
        appendScalar(0xFFFD, &out)
        i += 2
      default: out.append(c)
      }
      i += 1
      run = i
    }
    if run < n { out.append(contentsOf: UnsafeBufferPointer(rebasing: p[run..<n])) }
  }

  static func appendScalar(_ v: UInt32, _ out: inout [UInt8]) {
    if let u = Unicode.Scalar(v) { out.append(contentsOf: String(Character(u)).utf8) }
  }

  static let amp = Array("&amp;".utf8)
  static let lt = Array("&lt;".utf8)
  static let gt = Array("&gt;".utf8)
  static let quot = Array("&quot;".utf8)
  static let apos = Array("&#39;".utf8)
  static let tab = Array("&#9;".utf8)
  static let lf = Array("&#10;".utf8)
  static let cr = Array("&#13;".utf8)
}
