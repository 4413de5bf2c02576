/// A report that cannot be rendered or does not validate.
public struct ReportError: Error, Sendable, CustomStringConvertible {
  public var code: String
  /// The file at fault, with `:line` when known.
  public var path: String
  public var message: String
  public var fix: String

  public init(code: String, path: String, message: String, fix: String) {
    self.code = code
    self.path = path
    self.message = message
    self.fix = fix
  }

  public var description: String { "\(path): \(message) [\(code)] (fix: \(fix))" }
}
