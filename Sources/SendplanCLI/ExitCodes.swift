import SendplanDiagnostics

/// Process exit statuses (sysexits-style), shared by every command.
package enum ExitStatus: Int32, Sendable, CaseIterable {
  case success = 0
  case tenantsFailed = 1
  case usage = 64
  case dataError = 65
  case noInput = 66
  case software = 70
  case cannotCreate = 73
  case ioError = 74
  case tempFail = 75

  /// The table printed in `--help` and the README.
  package static let helpText = """
    EXIT CODES:
      0   success
      1   some tenants failed (row-level errors); the others were planned
      64  usage error (bad flag or value)
      65  bad input data (structural error), a bad key file, or a damaged audit trail; nothing was written
      66  input missing (no such bundle folder, templates folder or report file)
      70  a report failed validation (a sendplan or template bug); nothing was published
      73  cannot create output (OUT not writable, or not a sendplan folder)
      74  I/O error while reading or writing (disk full); the audit run is left unsealed, retry
      75  temporary failure: another run holds the audit lock, or a signal (SIGTERM, SIGINT) stopped
          the run; OUT is unchanged, retry with the same --run-id
    """

  /// A bundle's structural errors: 66 when the bundle is missing, 74 when a read failed, else 65.
  static func of(_ errors: [SendplanError]) -> ExitStatus {
    if errors.contains(where: { $0.kind == .missing && $0.code == "bundle_missing" }) { return .noInput }
    if errors.contains(where: { $0.kind == .io }) { return .ioError }
    return .dataError
  }

  /// The one place an error's kind becomes an exit status.
  static func of(_ e: SendplanError) -> ExitStatus {
    switch e.kind {
    case .usage: return .usage
    case .badData: return .dataError
    case .missing: return .noInput
    case .failedCheck: return .software
    case .cannotCreate: return .cannotCreate
    case .io: return .ioError
    case .busy: return .tempFail
    }
  }
}
