import Foundation
import SendplanDiagnostics

#if canImport(Glibc)
  import Glibc
#endif

/// Runs fsync and close on a thread of its own, so disk flushes overlap with planning.
package final class Syncer: @unchecked Sendable {
  private let cond = NSCondition()
  private var queue: [(Int32, String)] = []
  private var finished = false
  private var running = true
  private var error: SendplanError?
  private var thread: Thread?

  package init() {
    let t = Thread { [unowned self] in self.loop() }
    t.name = "sendplan-fsync"
    thread = t
    t.start()
  }

  package func enqueue(fd: Int32, path: String) {
    cond.lock()
    queue.append((fd, path))
    cond.signal()
    cond.unlock()
  }

  private func loop() {
    while true {
      cond.lock()
      while queue.isEmpty && !finished { cond.wait() }
      if queue.isEmpty && finished {
        running = false
        cond.broadcast()
        cond.unlock()
        return
      }
      let (fd, path) = queue.removeFirst()
      cond.unlock()
      var failure: Int32 = 0
      if Sys.fsync(fd, path: path) != 0 { failure = errno }
      // The file is on disk and the run does not read it again: its clean pages leave the cache.
      if failure == 0 { _ = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) }
      if Glibc.close(fd) != 0 && failure == 0 { failure = errno }
      if failure != 0 {
        cond.lock()
        if error == nil {
          error = SendplanError(
            .io, code: "sync_failed", path: path, message: "fsync failed: \(FS.errorText(failure))",
            fix: "free disk space or fix the file system, then re-run")
        }
        cond.unlock()
      }
    }
  }

  /// Waits until every queued file is synced and closed; throws the first failure.
  package func drain() throws(SendplanError) {
    cond.lock()
    finished = true
    cond.signal()
    while running { cond.wait() }
    let e = error
    cond.unlock()
    if let e { throw e }
  }
}
