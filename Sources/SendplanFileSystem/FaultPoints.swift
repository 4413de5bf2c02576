import SendplanDiagnostics
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// Counts the durability steps of a run (writes, syncs, renames) and can stop or fail at one of them.
///
/// The crash test kills the process at chosen steps; the disk-full test fails a chosen write.
/// The action comes from the caller, so the library never signals anything itself.
package final class FaultPoints: Sendable {
  let counter = Atomic<Int>(0)
  let killAt: Int?
  let failAt: Int?
  let kill: @Sendable (Int, String) -> Void

  /// `kill` runs at step `killAt`; step `failAt` fails as if the disk were full.
  package init(killAt: Int? = nil, failAt: Int? = nil, kill: @escaping @Sendable (Int, String) -> Void = { _, _ in }) {
    self.killAt = killAt
    self.failAt = failAt
    self.kill = kill
  }

  /// Steps taken so far.
  package var steps: Int { counter.load(ordering: .relaxed) }

  package func step(_ what: String, _ path: String) throws(SendplanError) {
    let n = counter.add(1, ordering: .relaxed).newValue
    if n == killAt { kill(n, what + " " + path) }
    if n == failAt {
      throw SendplanError(
        .io, code: "write_failed", path: path,
        message: "\(what) failed: \(FS.errorText(ENOSPC)) (injected at step \(n))",
        fix: "free space on the file system, then re-run")
    }
  }
}
