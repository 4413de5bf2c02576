import CSendplanSys
import SendplanDiagnostics
import SendplanJSON
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// Records every file-system effect of the process, for the power-loss test (`scripts/crash-test
/// --power-loss`), after SQLite's crash-simulating VFS (`test6.c`).
///
/// Every system call of this module that changes the file system (open for writing, write, pwrite,
/// truncate, fsync, fdatasync, syncfs, rename, exchange, unlink, rmdir, mkdir) goes through ``Sys``,
/// which, when a journal is installed, performs the call and appends one JSON line describing its
/// effect to the journal under one lock, so the journal is a true serial order of the effects. The
/// bytes written go to `<journal>.data`; the line gives their offset there. A separate step
/// (`scripts/power-cut.py`) replays the journal up to a chosen step and builds the states a power cut
/// could leave. Nothing is recorded unless an executable installs a journal (a hidden debug flag).
package final class CrashJournal: Sendable {
  /// The installed journal, set once by the executable before any work starts; nil in normal runs.
  package nonisolated(unsafe) static var current: CrashJournal?

  struct State {
    var index: Int32
    var data: Int32
    var dataBytes: Int64 = 0
    var syncs = 0
  }
  let state: Mutex<State>
  let skipSync: Int?

  /// Creates (truncating) `path` and `path.data`. With `skipSync`, the n-th sync (1-based, counting
  /// fsync, fdatasync and syncfs) is not performed and not recorded: a deliberately removed fsync,
  /// which the power-loss test must then report as a loss.
  package init(path: String, skipSync: Int? = nil) throws(SendplanError) {
    let index = Glibc.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    if index < 0 { throw FS.ioError("create the journal", path, errno) }
    let data = Glibc.open(path + ".data", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    if data < 0 {
      let err = errno
      Glibc.close(index)
      throw FS.ioError("create the journal data", path + ".data", err)
    }
    state = Mutex(State(index: index, data: data))
    self.skipSync = skipSync
  }

  deinit {
    state.withLock {
      Glibc.close($0.index)
      Glibc.close($0.data)
    }
  }

  /// Records a named point (for example "audit-sealed" once the run's commit returned), so the
  /// state builder knows which events were committed before a cut.
  package func mark(_ label: String) {
    state.withLock { s in
      append(&s, "{\"op\":\"mark\",\"label\":\(Self.quoted(label))}")
    }
  }

  func append(_ s: inout State, _ line: String) {
    var text = line
    text.append("\n")
    text.withUTF8 { p in Self.writeFully(s.index, UnsafeRawBufferPointer(p)) }
  }

  static func writeFully(_ fd: Int32, _ p: UnsafeRawBufferPointer) {
    var off = 0
    while off < p.count {
      let n = Glibc.write(fd, p.baseAddress.map { $0 + off }, p.count - off)
      if n < 0 {
        if errno == EINTR { continue }
        return
      }
      off += n
    }
  }

  static func quoted(_ s: String) -> String { JSONEscape.quoted(s) }

  static func inode(_ fd: Int32) -> UInt64 {
    var st = stat()
    return fstat(fd, &st) == 0 ? UInt64(st.st_ino) : 0
  }

  static func inode(path: String) -> UInt64 {
    var st = stat()
    return lstat(path, &st) == 0 ? UInt64(st.st_ino) : 0
  }
}

/// The module's system calls that change the file system, recorded when a ``CrashJournal`` is
/// installed. Errors are the callers' to report, from `errno` as usual.
package enum Sys {
  /// Runs `call`; with a journal, under its lock, recording `entry()` when `ok` says it succeeded.
  @inline(__always)
  static func recorded<R: Sendable>(_ call: () -> R, ok: (R) -> Bool, _ entry: (inout CrashJournal.State, R) -> String?)
    -> R
  {
    guard let j = CrashJournal.current else { return call() }
    return j.state.withLock { s in
      let r = call()
      if ok(r) {
        let saved = errno
        if let line = entry(&s, r) { j.append(&s, line) }
        errno = saved
      }
      return r
    }
  }

  package static func open(_ path: String, _ flags: Int32, _ mode: mode_t = 0o644) -> Int32 {
    let writes = flags & O_ACCMODE != O_RDONLY
    guard writes else { return Glibc.open(path, flags, mode) }
    return recorded({ Glibc.open(path, flags, mode) }, ok: { $0 >= 0 }) { _, fd in
      "{\"op\":\"open\",\"path\":\(CrashJournal.quoted(path)),\"ino\":\(CrashJournal.inode(fd)),"
        + "\"create\":\(flags & O_CREAT != 0),\"trunc\":\(flags & O_TRUNC != 0)}"
    }
  }

  package static func write(_ fd: Int32, _ p: UnsafeRawPointer?, _ count: Int, path: String) -> Int {
    recorded({ Glibc.write(fd, p, count) }, ok: { $0 > 0 }) { s, n in
      let end = Int64(lseek(fd, 0, SEEK_CUR))
      return data(&s, fd: fd, path: path, offset: end - Int64(n), p, n)
    }
  }

  package static func pwrite(_ fd: Int32, _ p: UnsafeRawPointer?, _ count: Int, _ offset: Int64, path: String) -> Int {
    recorded({ Glibc.pwrite(fd, p, count, off_t(offset)) }, ok: { $0 > 0 }) { s, n in
      data(&s, fd: fd, path: path, offset: offset, p, n)
    }
  }

  static func data(
    _ s: inout CrashJournal.State, fd: Int32, path: String, offset: Int64, _ p: UnsafeRawPointer?, _ n: Int
  ) -> String {
    let at = s.dataBytes
    CrashJournal.writeFully(s.data, UnsafeRawBufferPointer(start: p, count: n))
    s.dataBytes += Int64(n)
    return "{\"op\":\"write\",\"path\":\(CrashJournal.quoted(path)),\"ino\":\(CrashJournal.inode(fd)),"
      + "\"off\":\(offset),\"len\":\(n),\"at\":\(at)}"
  }

  package static func ftruncate(_ fd: Int32, _ size: Int64, path: String) -> Int32 {
    recorded({ Glibc.ftruncate(fd, off_t(size)) }, ok: { $0 == 0 }) { _, _ in
      "{\"op\":\"truncate\",\"path\":\(CrashJournal.quoted(path)),\"ino\":\(CrashJournal.inode(fd)),\"size\":\(size)}"
    }
  }

  package static func truncate(_ path: String, _ size: Int64) -> Int32 {
    recorded({ Glibc.truncate(path, off_t(size)) }, ok: { $0 == 0 }) { _, _ in
      "{\"op\":\"truncate\",\"path\":\(CrashJournal.quoted(path)),\"ino\":\(CrashJournal.inode(path: path)),"
        + "\"size\":\(size)}"
    }
  }

  /// fsync, fdatasync or syncfs of `fd` (a file or a folder); `what` is "fsync", "fdatasync" or "syncfs".
  static func sync(_ what: String, _ fd: Int32, path: String, _ call: () -> Int32) -> Int32 {
    guard let j = CrashJournal.current else { return call() }
    return j.state.withLock { s in
      s.syncs += 1
      if s.syncs == j.skipSync { return 0 }
      let r = call()
      if r == 0 {
        let saved = errno
        j.append(
          &s,
          "{\"op\":\"\(what)\",\"path\":\(CrashJournal.quoted(path)),\"ino\":\(CrashJournal.inode(fd)),\"n\":\(s.syncs)}"
        )
        errno = saved
      }
      return r
    }
  }

  package static func fsync(_ fd: Int32, path: String) -> Int32 { sync("fsync", fd, path: path) { Glibc.fsync(fd) } }

  package static func fdatasync(_ fd: Int32, path: String) -> Int32 {
    sync("fdatasync", fd, path: path) { Glibc.fdatasync(fd) }
  }

  package static func syncfs(_ fd: Int32, path: String) -> Int32 {
    sync("syncfs", fd, path: path) { sendplan_syncfs(fd) }
  }

  package static func rename(_ from: String, _ to: String) -> Int32 {
    recorded({ Glibc.rename(from, to) }, ok: { $0 == 0 }) { _, _ in
      "{\"op\":\"rename\",\"from\":\(CrashJournal.quoted(from)),\"to\":\(CrashJournal.quoted(to))}"
    }
  }

  /// `renameat2` with `RENAME_EXCHANGE`; 0 or -1 with errno set.
  package static func exchange(_ a: String, _ b: String) -> Int32 {
    recorded({ sendplan_rename_exchange(a, b) }, ok: { $0 == 0 }) { _, _ in
      "{\"op\":\"exchange\",\"a\":\(CrashJournal.quoted(a)),\"b\":\(CrashJournal.quoted(b))}"
    }
  }

  package static func unlink(_ path: String) -> Int32 {
    recorded({ Glibc.unlink(path) }, ok: { $0 == 0 }) { _, _ in
      "{\"op\":\"unlink\",\"path\":\(CrashJournal.quoted(path))}"
    }
  }

  package static func rmdir(_ path: String) -> Int32 {
    recorded({ Glibc.rmdir(path) }, ok: { $0 == 0 }) { _, _ in
      "{\"op\":\"rmdir\",\"path\":\(CrashJournal.quoted(path))}"
    }
  }

  package static func mkdir(_ path: String, _ mode: mode_t) -> Int32 {
    recorded({ Glibc.mkdir(path, mode) }, ok: { $0 == 0 }) { _, _ in
      "{\"op\":\"mkdir\",\"path\":\(CrashJournal.quoted(path)),\"ino\":\(CrashJournal.inode(path: path))}"
    }
  }
}
