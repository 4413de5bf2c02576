/// A failure while writing run outputs.
public struct OutputError: Error, Sendable, CustomStringConvertible {
  public enum Kind: String, Sendable {
    /// The output folder cannot be created or replaced (exit 73).
    case cannotCreate
    /// A write, sync or rename failed part-way (exit 74).
    case io
    /// An input file of a command that reads outputs (run.json) is missing (exit 66).
    case missing
    /// Such a file is not what it should be, or the files do not fit together (exit 65).
    case invalid
  }

  public var kind: Kind
  public var code: String
  public var path: String
  public var message: String
  public var fix: String

  public init(kind: Kind, code: String, path: String, message: String, fix: String) {
    self.kind = kind
    self.code = code
    self.path = path
    self.message = message
    self.fix = fix
  }

  public var description: String { "\(path): \(message) (fix: \(fix))" }
}
