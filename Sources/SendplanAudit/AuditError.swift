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
  /// The file at fault, with `:line` when a record is at fault.
  public var path: String
  public var message: String
  public var fix: String

  public init(_ kind: Kind, code: String, path: String, message: String, fix: String) {
    self.kind = kind
    self.code = code
    self.path = path
    self.message = message
    self.fix = fix
  }

  public var description: String {
    (path.isEmpty ? "" : "\(path): ") + "\(message) [\(code)] (fix: \(fix))"
  }
}
