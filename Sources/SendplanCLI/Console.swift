#if canImport(Glibc)
  import Glibc
#endif

/// Where commands write. Tests swap in a capturing console through the task-local `current`.
package final class Console: @unchecked Sendable {
  private let lock = NSLockLite()
  private var captured: (out: [UInt8], err: [UInt8])?

  /// A console that writes to the process's stdout and stderr.
  package static let standard = Console(capturing: false)

  @TaskLocal package static var current: Console = .standard

  package init(capturing: Bool) {
    captured = capturing ? ([], []) : nil
  }

  package func out(_ s: String) { write(s + "\n", toError: false) }
  package func err(_ s: String) { write(s + "\n", toError: true) }

  /// Writes raw text with no newline added.
  package func write(_ s: String, toError: Bool) {
    lock.withLock {
      if captured != nil {
        if toError { captured?.err.append(contentsOf: s.utf8) } else { captured?.out.append(contentsOf: s.utf8) }
      } else {
        var s = s
        s.withUTF8 { p in
          _ = Glibc.write(toError ? 2 : 1, p.baseAddress, p.count)
        }
      }
    }
  }

  /// Whether standard error is a terminal (never true for a capturing console).
  package var stderrIsTTY: Bool { captured == nil && isatty(2) == 1 }

  package var capturedOut: String { lock.withLock { String(decoding: captured?.out ?? [], as: UTF8.self) } }
  package var capturedErr: String { lock.withLock { String(decoding: captured?.err ?? [], as: UTF8.self) } }
}

/// A minimal pthread mutex, to avoid pulling Foundation's locks into the console.
final class NSLockLite: @unchecked Sendable {
  private var m = pthread_mutex_t()
  init() { pthread_mutex_init(&m, nil) }
  deinit { pthread_mutex_destroy(&m) }
  func withLock<R>(_ body: () -> R) -> R {
    pthread_mutex_lock(&m)
    defer { pthread_mutex_unlock(&m) }
    return body()
  }
}
