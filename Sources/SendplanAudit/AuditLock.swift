import SendplanDiagnostics
import SendplanFileSystem
import SendplanModel

/// The lock on an audit folder, held until released or the process ends.
///
/// A sharded run shares `.lock` with the other shards of its run and holds `.lock.shard-K-of-N`
/// alone: shards write disjoint streams, while an unsharded run (exclusive `.lock`) excludes them all.
package final class AuditLock: Sendable {
  let run: FileLock
  let shard: FileLock?

  /// Takes the lock at once or throws `busy`, naming the holder's pid when it is known.
  package init(auditDir: String, shard: Shard? = nil) throws(SendplanError) {
    run = try FileLock(path: auditDir + "/.lock", exclusive: shard == nil, what: "the audit lock")
    self.shard = try shard.map { s throws(SendplanError) in
      try FileLock(path: auditDir + "/.lock.shard-\(s.index)-of-\(s.count)", exclusive: true, what: "the audit lock")
    }
  }
}
