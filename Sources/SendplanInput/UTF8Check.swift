/// Strict UTF-8 validation (no overlongs, no surrogates, nothing above U+10FFFF).
@inline(__always)
func isValidUTF8(_ p: UnsafeBufferPointer<UInt8>) -> Bool {
  let n = p.count
  guard let base = p.baseAddress else { return true }
  var i = 0
  while i < n {
    // ASCII fast path, eight bytes at a time.
    while i + 8 <= n {
      let w = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
      if w & 0x8080_8080_8080_8080 != 0 { break }
      i += 8
    }
    if i >= n { break }
    let b0 = base[i]
    if b0 < 0x80 {
      i += 1
      continue
    }
    if b0 >= 0xC2 && b0 <= 0xDF {
      guard i + 1 < n, base[i + 1] & 0xC0 == 0x80 else { return false }
      i += 2
    } else if b0 >= 0xE0 && b0 <= 0xEF {
      guard i + 2 < n else { return false }
      let b1 = base[i + 1]
      let b2 = base[i + 2]
      let lo: UInt8 = b0 == 0xE0 ? 0xA0 : 0x80
      let hi: UInt8 = b0 == 0xED ? 0x9F : 0xBF
      guard b1 >= lo && b1 <= hi, b2 & 0xC0 == 0x80 else { return false }
      i += 3
    } else if b0 >= 0xF0 && b0 <= 0xF4 {
      guard i + 3 < n else { return false }
      let b1 = base[i + 1]
      let lo: UInt8 = b0 == 0xF0 ? 0x90 : 0x80
      let hi: UInt8 = b0 == 0xF4 ? 0x8F : 0xBF
      guard b1 >= lo && b1 <= hi, base[i + 2] & 0xC0 == 0x80, base[i + 3] & 0xC0 == 0x80 else { return false }
      i += 4
    } else {
      return false
    }
  }
  return true
}

/// Whether every byte is ASCII, eight bytes at a time: the common record skips the full check.
@inline(__always)
func isASCII(_ p: UnsafeBufferPointer<UInt8>) -> Bool {
  guard let base = p.baseAddress else { return true }
  let n = p.count
  var i = 0
  var acc: UInt64 = 0
  while i + 8 <= n {
    acc |= UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
    i += 8
  }
  while i < n {
    acc |= UInt64(base[i])
    i += 1
  }
  return acc & 0x8080_8080_8080_8080 == 0
}
