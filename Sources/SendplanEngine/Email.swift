/// Email normalisation and the literal syntax check of planning-rules §3.4 and §5.
package enum Email {
  /// The result of normalising one address.
  package struct Normalized: Sendable, Equatable {
    /// Trimmed of ASCII white space and with `A`–`Z` folded; other bytes untouched.
    package var value: String
    /// Whether `value` passes the syntax check.
    package var isValid: Bool
  }

  @inline(__always)
  static func isTrimmable(_ b: UInt8) -> Bool {
    b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0B || b == 0x0C || b == 0x0D
  }

  /// The part of `raw` left once ASCII white space is trimmed from both ends.
  @inline(__always)
  static func trimmed(_ raw: UnsafeBufferPointer<UInt8>) -> Range<Int> {
    var start = 0
    var end = raw.count
    while start < end && isTrimmable(raw[start]) { start += 1 }
    while end > start && isTrimmable(raw[end - 1]) { end -= 1 }
    return start..<end
  }

  /// Copies `raw[range]` to `out` with `A`–`Z` folded to lower case; other bytes untouched.
  @inline(__always)
  static func fold(_ raw: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, to out: UnsafeMutableBufferPointer<UInt8>) {
    for i in range {
      let c = raw[i]
      out[i - range.lowerBound] = (c >= 0x41 && c <= 0x5A) ? c | 0x20 : c
    }
  }

  /// Trims ASCII white space and lower-cases ASCII letters only.
  package static func normalize(_ raw: String) -> String {
    var raw = raw
    return raw.withUTF8 { p in
      let r = trimmed(p)
      return String(unsafeUninitializedCapacity: r.count) { buf in
        fold(p, r, to: buf)
        return r.count
      }
    }
  }

  /// Normalises `raw` and checks its syntax.
  package static func check(_ raw: String) -> Normalized {
    let value = normalize(raw)
    return Normalized(value: value, isValid: isValidNormalized(value))
  }

  /// Normalises the address bytes `raw` into the start of `out`, as ``normalize(_:)`` does, and
  /// returns the normalised length; `out` grows when it is too short. No `String` is made: this is
  /// the planner's per-recipient path.
  @inline(__always)
  static func normalize(_ raw: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) -> Int {
    let r = trimmed(raw)
    if out.count < r.count { out = [UInt8](repeating: 0, count: max(r.count, 2 * out.count)) }
    out.withUnsafeMutableBufferPointer { fold(raw, r, to: $0) }
    return r.count
  }

  /// The syntax check on an already normalised address.
  package static func isValidNormalized(_ s: String) -> Bool {
    var s = s
    return s.withUTF8 { isValidNormalized(bytes: $0) }
  }

  /// ``isValidNormalized(_:)`` on the address's UTF-8 bytes.
  static func isValidNormalized(bytes b: UnsafeBufferPointer<UInt8>) -> Bool {
    guard b.count <= 254 else { return false }
    var at = -1
    for i in 0..<b.count {
      let c = b[i]
      if c >= 0x80 { return false }
      if c == 0x40 {
        if at >= 0 { return false }
        at = i
      }
    }
    guard at >= 1, at <= 64 else { return false }
    for i in 0..<at {
      let c = b[i]
      if c <= 0x20 || c == 0x7F { return false }
      switch c {
      case 0x22, 0x28, 0x29, 0x2C, 0x3A, 0x3B, 0x3C, 0x3E, 0x40, 0x5B, 0x5C, 0x5D: return false
      default: break
      }
    }
    return isValidDomain(UnsafeBufferPointer(rebasing: b[(at + 1)...]))
  }

  static func isValidDomain(_ d: UnsafeBufferPointer<UInt8>) -> Bool {
    var labels = 0
    var len = 0
    var first: UInt8 = 0
    var last: UInt8 = 0
    func closeLabel() -> Bool {
      guard len >= 1, len <= 63, first != 0x2D, last != 0x2D else { return false }
      labels += 1
      len = 0
      return true
    }
    for c in d {
      if c == 0x2E {
        if !closeLabel() { return false }
        continue
      }
      let ok = (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x2D
      if !ok { return false }
      if len == 0 { first = c }
      last = c
      len += 1
    }
    if !closeLabel() { return false }
    return labels >= 2
  }

  /// Which part of the syntax check a normalised address fails, or nil when it passes. Runs the
  /// checks of ``isValidNormalized(_:)`` in the same order; only called for invalid addresses.
  package static func problem(_ s: String) -> EmailProblem? {
    let b = Array(s.utf8)
    if b.count > 254 { return .tooLong }
    var at = -1
    for (i, c) in b.enumerated() {
      if c >= 0x80 { return .nonASCII }
      if c == 0x40 {
        if at >= 0 { return .severalAt }
        at = i
      }
    }
    if at < 0 { return .noAt }
    if at < 1 || at > 64 { return .localPartLength }
    for c in b[0..<at] {
      if c <= 0x20 || c == 0x7F { return .localPartCharacter }
      switch c {
      case 0x22, 0x28, 0x29, 0x2C, 0x3A, 0x3B, 0x3C, 0x3E, 0x40, 0x5B, 0x5C, 0x5D: return .localPartCharacter
      default: break
      }
    }
    let labels = b[(at + 1)...].split(separator: 0x2E, omittingEmptySubsequences: false)
    for label in labels {
      let chars = label.allSatisfy { c in (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x2D }
      guard (1...63).contains(label.count), chars, label.first != 0x2D, label.last != 0x2D else {
        return .domainLabel
      }
    }
    return labels.count < 2 ? .domainSingleLabel : nil
  }

  /// The part after `@` of a valid normalised address.
  static func domain(of s: String) -> Substring {
    guard let at = s.utf8.firstIndex(of: 0x40) else { return "" }
    return s[s.utf8.index(after: at)...]
  }
}
