/// Lower-case hexadecimal text of bytes: digests, folder-name suffixes, checkpoint fields, hashed log values.
package enum Hex {
  static let digits: [UInt8] = Array("0123456789abcdef".utf8)

  /// Two lower-case hex digits per byte.
  package static func encode(_ bytes: some Sequence<UInt8>) -> String {
    var out: [UInt8] = []
    out.reserveCapacity(bytes.underestimatedCount * 2)
    for b in bytes {
      out.append(digits[Int(b >> 4)])
      out.append(digits[Int(b & 15)])
    }
    return String(decoding: out, as: UTF8.self)
  }

  /// The bytes of lower-case hex text, or nil when it has an odd length or another character.
  package static func decode(_ text: some Collection<UInt8>) -> [UInt8]? {
    guard text.count % 2 == 0 else { return nil }
    var out: [UInt8] = []
    out.reserveCapacity(text.count / 2)
    var hi: UInt8 = 0
    for (i, c) in text.enumerated() {
      let v: UInt8
      switch c {
      case 0x30...0x39: v = c - 0x30
      case 0x61...0x66: v = c - 0x61 + 10
      default: return nil
      }
      if i & 1 == 0 { hi = v } else { out.append(hi << 4 | v) }
    }
    return out
  }
}
