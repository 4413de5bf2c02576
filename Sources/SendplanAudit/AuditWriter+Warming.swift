import Crypto
import Dispatch
import SendplanDiagnostics
import SendplanEngine
import SendplanFileSystem
import SendplanModel
import Synchronization

extension AuditWriter {
  /// Starts reading, and changing nothing, what `prepare` will read of every stream in the folder,
  /// so that it finds it in the page cache; `wait()` on the result before calling `prepare`. Meant
  /// to run while the bundle is read (which only then names the tenants): on a cold start `prepare`
  /// spent most of its time waiting for the disk, a few small reads per stream, with the cores idle.
  package func startWarming(threads: Int = 8) -> Warming {
    let group = DispatchGroup()
    guard let names = try? FS.list(layout.streams), !names.isEmpty else { return Warming(group: group) }
    let next = Atomic<Int>(0)
    for _ in 0..<max(1, min(threads, names.count)) {
      DispatchQueue.global().async(group: group) { [layout] in
        while true {
          let i = next.add(1, ordering: .relaxed).oldValue
          guard i < names.count else { return }
          Self.warmStream(layout.streams + "/" + names[i])
        }
      }
    }
    return Warming(group: group)
  }

  /// Reads started by `startWarming`.
  package struct Warming {
    let group: DispatchGroup
    /// Waits until every stream has been read.
    package func wait() { group.wait() }
  }

  /// Bytes at the end of the last sealed segment that `prepare` reads to check its chain head.
  static let sealedTailCheck: Int64 = 4096

  static func warmStream(_ dir: String) {
    guard let files = try? StreamFiles.scan(dir) else { return }
    _ = try? FS.read(AuditLayout.identity(dir))
    let committed = (try? files.committed(dir))?.segment ?? 0
    if committed > 0 {
      _ = try? FS.read(AuditLayout.manifest(dir, committed))
      _ = try? FS.read(AuditLayout.checkpoint(dir, committed))
      if committed > 1 { _ = try? FS.read(AuditLayout.manifest(dir, committed - 1)) }
      let spath = AuditLayout.segment(dir, committed)
      if let size = FS.size(spath) {
        let n = min(size, Self.sealedTailCheck)
        _ = try? FS.read(spath, offset: size - n, length: Int(n))
      }
    }
    if files.lastLog > committed { _ = try? FS.read(AuditLayout.segment(dir, files.lastLog)) }
  }
}
