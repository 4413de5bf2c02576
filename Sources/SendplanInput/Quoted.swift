import SendplanDiagnostics

/// Renders untrusted text for a message: control characters become `\u{..}` escapes.
func quoted(_ s: String, limit: Int = 80) -> String {
  var out = "\""
  var n = 0
  for scalar in s.unicodeScalars {
    if n >= limit {
      out += "…"
      break
    }
    switch scalar.value {
    case 0x22: out += "\\\""
    case 0x5C: out += "\\\\"
    case 0..<0x20, 0x7F..<0xA0: out += "\\u{\(String(scalar.value, radix: 16))}"
    default: out.unicodeScalars.append(scalar)
    }
    n += 1
  }
  return out + "\""
}
