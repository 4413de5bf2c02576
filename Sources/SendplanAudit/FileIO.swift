import CSendplanSys
import SendplanOutput
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// Counts the durability steps of a run (writes, syncs, renames) and can stop or fail at one of them.
///
/// The crash test kills the process at chosen steps; the disk-full test fails a chosen write.
/// The action comes from the caller, so the library never signals anything itself.
public final class FaultPoints: Sendable {
  let counter = Atomic<Int>(0)
  let killAt: Int?
  let failAt: Int?
  let kill: @Sendable (Int, String) -> Void

  /// `kill` runs at step `killAt`; step `failAt` fails as if the disk were full.
  public init(killAt: Int? = nil, failAt: Int? = nil, kill: @escaping @Sendable (Int, String) -> Void = { _, _ in }) {
    self.killAt = killAt
    self.failAt = failAt
    self.kill = kill
  }

  /// Steps taken so far.
  public var steps: Int { counter.load(ordering: .relaxed) }

  func step(_ what: String, _ path: String) throws(AuditError) {
    let n = counter.add(1, ordering: .relaxed).newValue
    if n == killAt { kill(n, what + " " + path) }
    if n == failAt {
      throw AuditError(
        .io, code: "write_failed", path: path,
        message: "\(what) failed: \(AuditFS.errorText(ENOSPC)) (injected at step \(n))",
        fix: "free space on the audit file system, then re-run the same --run-id")
    }
  }
}

/// Thin POSIX helpers; every error names the path and the system's reason.
enum AuditFS {
  static func errorText(_ err: Int32) -> String { String(cString: strerror(err)) }

  static func ioError(_ what: String, _ path: String, _ err: Int32) -> AuditError {
    AuditError(
      .io, code: "io_error", path: path, message: "cannot \(what): \(errorText(err))",
      fix: "check the audit file system (space, permissions), then re-run the same --run-id")
  }

  static func exists(_ path: String) -> Bool {
    var st = stat()
    return lstat(path, &st) == 0
  }

  static func isDirectory(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
  }

  static func size(_ path: String) -> Int64? {
    var st = stat()
    guard stat(path, &st) == 0 else { return nil }
    return Int64(st.st_size)
  }

  static func makeDirectory(_ path: String) throws(AuditError) {
    if mkdir(path, 0o755) != 0 && errno != EEXIST { throw ioError("create the folder", path, errno) }
  }

  /// The whole file, or nil when it does not exist.
  static func read(_ path: String) throws(AuditError) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    if fd < 0 {
      if errno == ENOENT { return nil }
      throw ioError("open", path, errno)
    }
    defer { close(fd) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    while true {
      let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
      if n < 0 {
        if errno == EINTR { continue }
        throw ioError("read", path, errno)
      }
      if n == 0 { break }
      out.append(contentsOf: chunk[0..<n])
    }
    return out
  }

  /// Reads `length` bytes at `offset`; fewer at the end of the file.
  static func read(_ path: String, offset: Int64, length: Int) throws(AuditError) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    if fd < 0 { throw ioError("open", path, errno) }
    defer { close(fd) }
    var out = [UInt8](repeating: 0, count: length)
    var got = 0
    while got < length {
      let n = out.withUnsafeMutableBytes { p in
        pread(fd, p.baseAddress.map { $0 + got }, length - got, off_t(offset) + off_t(got))
      }
      if n < 0 {
        if errno == EINTR { continue }
        throw ioError("read", path, errno)
      }
      if n == 0 { break }
      got += n
    }
    return Array(out[0..<got])
  }

  static func writeAll(_ fd: Int32, _ bytes: ArraySlice<UInt8>, path: String, faults: FaultPoints?) throws(AuditError) {
    let failure: AuditError? = bytes.withUnsafeBytes { p in
      do throws(AuditError) {
        try writeAll(fd, p, path: path, faults: faults)
        return nil
      } catch {
        return error
      }
    }
    if let failure { throw failure }
  }

  /// Writes every byte, one fault step per MiB. With `direct` (the file is open with O_DIRECT and
  /// `bytes` is page-aligned), whole 4 KiB blocks go out directly and the rest through the page cache.
  static func writeAll(
    _ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String, faults: FaultPoints?, direct: Bool = false
  ) throws(AuditError) {
    var direct = direct
    func buffered() {
      _ = sendplan_set_direct(fd, 0)
      direct = false
    }
    let block = ByteWriter.alignment
    var start = 0
    let chunk = 1 << 20
    while start < bytes.count {
      let end = min(start + chunk, bytes.count)
      try faults?.step("write", path)
      var off = start
      while off < end {
        let whole = direct ? (end - off) / block * block : 0
        // The tail, less than a block, goes through the page cache.
        if direct && whole == 0 { buffered() }
        let n = write(fd, bytes.baseAddress.map { $0 + off }, direct ? whole : end - off)
        if n < 0 {
          let err = errno
          if err == EINTR { continue }
          if direct && err == EINVAL {
            // The device wants a larger alignment than a page: write normally.
            buffered()
            continue
          }
          throw ioError("write", path, err)
        }
        off += n
        if direct && n % block != 0 { buffered() }
      }
      start = end
    }
  }

  /// Creates or replaces `path` with `bytes` (no sync; callers sync the file system as a whole).
  static func writeFile(_ path: String, _ bytes: [UInt8], faults: FaultPoints?, mode: mode_t = 0o644) throws(AuditError)
  {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
    if fd < 0 { throw ioError("create", path, errno) }
    defer { close(fd) }
    try writeAll(fd, bytes[...], path: path, faults: faults)
  }

  /// Writes a segment: a new file `path` (refused if it exists), or the end of an existing one when
  /// `appending` (finishing an interrupted run). Write-back starts at once, so the sync before sealing
  /// finds little left to do.
  ///
  /// A new segment bypasses the page cache where the file system allows: whole 4 KiB blocks from a
  /// page-aligned buffer go out with `O_DIRECT`, the short tail through the cache. A segment is
  /// written once and not read again in the run; through the cache each of its pages had to be
  /// allocated, copied into and written back, and on a virtual machine fresh guest pages are
  /// expensive (a night's 0.9 GB of segments slowed OUT's own writes as well). Write errors still
  /// surface here or at the sync.
  static func writeSegment(_ path: String, _ bytes: UnsafeRawBufferPointer, appending: Bool, faults: FaultPoints?)
    throws(AuditError)
  {
    let fd = open(path, O_WRONLY | O_CLOEXEC | (appending ? O_APPEND : O_CREAT | O_EXCL), 0o644)
    if fd < 0 { throw ioError(appending ? "open for appending" : "create", path, errno) }
    defer { close(fd) }
    // Only a new file starts at offset 0, where the buffer's blocks line up with the file's.
    let aligned = bytes.baseAddress.map { Int(bitPattern: $0) % ByteWriter.alignment == 0 } ?? false
    let direct = !appending && aligned && bytes.count >= ByteWriter.alignment && sendplan_set_direct(fd, 1) == 0
    try writeAll(fd, bytes, path: path, faults: faults, direct: direct)
    sendplan_start_writeback(fd)
  }

  /// Atomically puts `from` in place of `to`. With `keepingOld`, an existing `to` is swapped with
  /// `from` (`renameat2` with `RENAME_EXCHANGE`) rather than replaced, so its inode stays linked under
  /// `from`, to be overwritten next time.
  ///
  /// Replacing frees the old inode, and ext4 without a journal then inspects each recently freed inode
  /// it passes when allocating: a run that replaced a thousand heads made the next run's file
  /// creations in the same folders ten times slower.
  static func rename(_ from: String, _ to: String, keepingOld: Bool = false, faults: FaultPoints?) throws(AuditError) {
    try faults?.step("rename", to)
    var swapped = false
    if keepingOld && exists(to) {
      swapped = sendplan_rename_exchange(from, to) == 0
      let err = errno
      // Without RENAME_EXCHANGE (some file systems), the plain rename below is just as atomic.
      if !swapped && err != EINVAL && err != ENOSYS && err != ENOTSUP { throw ioError("swap \(from) with", to, err) }
    }
    if !swapped && Glibc.rename(from, to) != 0 { throw ioError("rename \(from) to", to, errno) }
    try faults?.step("renamed", to)
  }

  /// fsync of one file or folder.
  static func sync(_ path: String, faults: FaultPoints?) throws(AuditError) {
    try faults?.step("fsync", path)
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    if fd < 0 { throw ioError("open for fsync", path, errno) }
    defer { close(fd) }
    if fsync(fd) != 0 { throw ioError("fsync", path, errno) }
    try faults?.step("fsynced", path)
  }

  /// Flushes the whole file system holding `path`: one barrier for every file and folder written before it.
  static func syncAll(_ path: String, faults: FaultPoints?) throws(AuditError) {
    try faults?.step("syncfs", path)
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    if fd < 0 { throw ioError("open for syncfs", path, errno) }
    defer { close(fd) }
    if sendplan_syncfs(fd) != 0 { throw ioError("sync the file system of", path, errno) }
    try faults?.step("syncedfs", path)
  }

  static func truncate(_ path: String, to size: Int64, faults: FaultPoints?) throws(AuditError) {
    try faults?.step("truncate", path)
    if Glibc.truncate(path, off_t(size)) != 0 { throw ioError("truncate", path, errno) }
  }

  /// Names in a folder, sorted byte-wise; empty when it does not exist.
  static func list(_ path: String) throws(AuditError) -> [String] {
    guard let d = opendir(path) else {
      if errno == ENOENT { return [] }
      throw ioError("list", path, errno)
    }
    defer { closedir(d) }
    var names: [String] = []
    while let e = readdir(d) {
      let name = withUnsafeBytes(of: e.pointee.d_name) { p in
        String(decoding: p.prefix(while: { $0 != 0 }), as: UTF8.self)
      }
      if name != "." && name != ".." { names.append(name) }
    }
    return names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
  }
}

/// An exclusive, non-blocking lock on an audit folder, held until released or the process ends.
public final class AuditLock: Sendable {
  let fd: Int32

  let shardFD: Int32?

  /// Takes the lock at once or throws `locked`, naming the holder's pid when it is known.
  ///
  /// A sharded run shares `.lock` with the other shards of its run and holds `.lock.shard-K-of-N`
  /// alone: shards write disjoint streams, while an unsharded run (exclusive `.lock`) excludes them all.
  public init(auditDir: String, shard: Shard? = nil) throws(AuditError) {
    let path = auditDir + "/.lock"
    let fd = try AuditLock.take(path, exclusive: shard == nil)
    guard let shard else {
      shardFD = nil
      self.fd = fd
      return
    }
    do {
      shardFD = try AuditLock.take(auditDir + "/.lock.shard-\(shard.index)-of-\(shard.count)", exclusive: true)
    } catch {
      close(fd)
      throw error
    }
    self.fd = fd
  }

  static func take(_ path: String, exclusive: Bool) throws(AuditError) -> Int32 {
    let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
    if fd < 0 {
      throw AuditError(
        .cannotCreate, code: "lock_unavailable", path: path,
        message: "cannot open the lock file: \(AuditFS.errorText(errno))",
        fix: "make sure the audit folder exists and is writable")
    }
    if flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0 {
      let err = errno
      var buf = [UInt8](repeating: 0, count: 32)
      let n = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 32, 0) }
      close(fd)
      let holder = n > 0 ? String(decoding: buf[0..<n], as: UTF8.self).filter(\.isNumber) : ""
      guard err == EWOULDBLOCK else {
        throw AuditError(
          .io, code: "lock_failed", path: path, message: "cannot lock: \(AuditFS.errorText(err))",
          fix: "check the audit file system")
      }
      throw AuditError(
        .locked, code: "audit_locked", path: path,
        message: "another sendplan process\(holder.isEmpty ? "" : " (pid \(holder))") holds the audit lock",
        fix:
          "wait for it to finish, then retry; never run two nightly jobs on one audit folder (shards of one run may share it)"
      )
    }
    if exclusive {
      let pid = Array("\(getpid())\n".utf8)
      _ = ftruncate(fd, 0)
      _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }
    return fd
  }

  deinit {
    if let shardFD { close(shardFD) }
    close(fd)
  }
}
