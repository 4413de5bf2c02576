/// The one error shape of every sendplan module: a stable code, what is wrong, how to mend it,
/// where the input is at fault, and what caused it.
///
/// Library code chooses the ``Kind``; only the executables turn a kind into an exit status or an
/// HTTP status. Messages and fixes never name command-line flags or exit codes; the executables add those.
package struct SendplanError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The class of failure, which decides how a caller reacts (and the CLI's exit status).
  package enum Kind: String, Sendable, CaseIterable {
    /// A bad argument, such as a cursor for another enrollment.
    case usage
    /// Input that is malformed or inconsistent: a broken CSV, a damaged audit trail, a bad key file.
    case badData
    /// Something that should exist does not: the bundle, a stream, an enrollment, a file.
    case missing
    /// A folder or file that should be created or replaced cannot be.
    case cannotCreate
    /// A read, write, sync or rename failed part-way, for a reason outside the data.
    case io
    /// Another process holds a lock the operation needs; retrying later may succeed.
    case busy
    /// Output that sendplan itself produced failed its own check (a bug, or a broken template).
    case failedCheck
  }

  /// Where the input is at fault: a file, and the 1-based line when one is known.
  package struct Location: Sendable, Equatable, CustomStringConvertible {
    package var file: String
    package var line: Int?

    package init(file: String, line: Int? = nil) {
      self.file = file
      self.line = line
    }

    /// `file:line`, or `file` alone.
    package var description: String { line.map { "\(file):\($0)" } ?? file }
  }

  package var kind: Kind
  /// Stable, machine-readable, such as `csv_unterminated_quote`.
  package var code: String
  /// What is wrong.
  package var message: String
  /// How to mend it.
  package var fix: String
  package var location: Location?
  /// The underlying failure, when there is one.
  package var cause: (any Error & Sendable)?

  /// `path` empty means no location; a `line` of 0 or less means the file as a whole.
  package init(
    _ kind: Kind, code: String, path: String = "", line: Int? = nil, message: String, fix: String,
    cause: (any Error & Sendable)? = nil
  ) {
    self.kind = kind
    self.code = code
    self.message = message
    self.fix = fix
    self.location = path.isEmpty ? nil : Location(file: path, line: line.flatMap { $0 > 0 ? $0 : nil })
    self.cause = cause
  }

  /// The file at fault, or "" when none is.
  package var path: String { location?.file ?? "" }
  /// The line at fault, when one is known.
  package var line: Int? { location?.line }

  /// `file:line: message [code] (fix: ...)`, then the cause when there is one.
  package var description: String {
    var s = location.map { "\($0): " } ?? ""
    s += "\(message) [\(code)] (fix: \(fix))"
    if let cause { s += " (cause: \(cause))" }
    return s
  }

  /// Equal when everything but the cause is; causes are compared by their descriptions.
  package static func == (a: SendplanError, b: SendplanError) -> Bool {
    a.kind == b.kind && a.code == b.code && a.message == b.message && a.fix == b.fix && a.location == b.location
      && a.cause.map { "\($0)" } == b.cause.map { "\($0)" }
  }
}

/// Several errors at once, such as the first structural error of each bundle file.
package struct SendplanErrors: Error, Sendable {
  package var errors: [SendplanError]
  package init(_ errors: [SendplanError]) { self.errors = errors }
}
