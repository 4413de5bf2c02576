/// A failure in the audit trail, with a stable code, what is wrong and how to fix it.
public struct AuditError: Error, Sendable, CustomStringConvertible {
  public enum Kind: String, Sendable {
    /// Another process holds the audit lock (exit 75).
    case locked
    /// A read, write, sync or rename failed (exit 74).
    case io
    /// The audit trail on disk is damaged or inconsistent (exit 65).
    case corrupt
    /// No such stream or enrollment (exit 66).
    case notFound
    /// A bad argument, such as a cursor for another enrollment (exit 64).
    case usage
    /// A key file is missing, unreadable or malformed (exit 65).
    case badKey
    /// The audit folder cannot be created (exit 73).
    case cannotCreate
  }

  public var kind: Kind
  public var code: String
  /// The file at fault.
  public var path: String
  /// The 1-based line of the record at fault, or 0 when the file as a whole is.
  public var line: Int
  public var message: String
  public var fix: String

  public init(_ kind: Kind, code: String, path: String, line: Int = 0, message: String, fix: String) {
    self.kind = kind
    self.code = code
    self.path = path
    self.line = line
    self.message = message
    self.fix = fix
  }

  public var description: String {
    let place = line > 0 ? "\(path):\(line): " : path.isEmpty ? "" : "\(path): "
    return place + "\(message) [\(code)] (fix: \(fix))"
  }
}
