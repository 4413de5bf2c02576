/// A problem that stops the whole run before anything is written (planning-rules §2).
public struct InputError: Error, Sendable, Equatable, CustomStringConvertible {
  /// Which exit status class the problem belongs to.
  public enum Kind: String, Sendable {
    /// Bad input data: broken quoting, missing column, bad customer id, and so on (exit 65).
    case structural
    /// The bundle folder or a file is missing (exit 66).
    case missing
    /// Reading failed for a reason outside the data (exit 74).
    case io
  }

  public var kind: Kind
  /// Stable code such as `csv_unterminated_quote`.
  public var code: String
  /// File name inside the bundle, or the bundle path.
  public var file: String
  /// First physical line of the offending record, when one is known.
  public var line: Int?
  public var message: String
  public var fix: String

  public init(kind: Kind = .structural, code: String, file: String, line: Int?, message: String, fix: String) {
    self.kind = kind
    self.code = code
    self.file = file
    self.line = line
    self.message = message
    self.fix = fix
  }

  /// `file:line: message (fix: ...)`, the form printed by the CLI.
  public var description: String {
    let place = line.map { "\(file):\($0)" } ?? file
    return "\(place): \(message) (fix: \(fix))"
  }
}

/// Thrown when several files have structural errors; each file reports its first.
public struct InputErrors: Error, Sendable {
  public var errors: [InputError]
  public init(_ errors: [InputError]) { self.errors = errors }
}

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
