import CSendplanSys
import SendplanDiagnostics

#if canImport(Glibc)
  import Glibc
#endif

extension FS {
  /// The whole file, or nil when it does not exist.
  package static func read(_ path: String) throws(SendplanError) -> [UInt8]? {
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

  /// Reads `length` bytes at `offset`; fewer at the end of the file. A negative offset or length is
  /// refused, and no more than the file holds is allocated (offsets often come from files read earlier).
  package static func read(_ path: String, offset: Int64, length: Int) throws(SendplanError) -> [UInt8] {
    guard offset >= 0, length >= 0 else { throw ioError("read", path, EINVAL) }
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    if fd < 0 { throw ioError("open", path, errno) }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else { throw ioError("stat", path, errno) }
    let length = offset >= Int64(st.st_size) ? 0 : min(length, Int(Int64(st.st_size) - offset))
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

  package static func writeAll(_ fd: Int32, _ bytes: ArraySlice<UInt8>, path: String, faults: FaultPoints?)
    throws(SendplanError)
  {
    let failure: SendplanError? = bytes.withUnsafeBytes { p in
      do throws(SendplanError) {
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
  package static func writeAll(
    _ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String, faults: FaultPoints?, direct: Bool = false
  ) throws(SendplanError) {
    var direct = direct
    func buffered() {
      _ = sendplan_set_direct(fd, 0)
      direct = false
    }
    let block = blockAlignment
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
        let n = Sys.write(fd, bytes.baseAddress.map { $0 + off }, direct ? whole : end - off, path: path)
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
  package static func writeFile(_ path: String, _ bytes: [UInt8], faults: FaultPoints?, mode: mode_t = 0o644)
    throws(SendplanError)
  {
    let fd = Sys.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
    if fd < 0 { throw ioError("create", path, errno) }
    defer { close(fd) }
    try writeAll(fd, bytes[...], path: path, faults: faults)
  }

  /// Creates `path` (refused if it exists) with `bytes`, then syncs the file and its folder, so the
  /// new file survives a power cut (keys, exports).
  package static func createNew(_ path: String, _ bytes: [UInt8], mode: mode_t) throws(SendplanError) {
    let fd = Sys.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
    if fd < 0 {
      throw SendplanError(
        .cannotCreate, code: "create_failed", path: path, message: "cannot create: \(errorText(errno))",
        fix: "choose a path in a writable folder that does not exist yet")
    }
    do throws(SendplanError) {
      try writeAll(fd, bytes[...], path: path, faults: nil)
      if Sys.fsync(fd, path: path) != 0 { throw ioError("fsync", path, errno) }
    } catch {
      close(fd)
      throw error
    }
    close(fd)
    try syncDirectory(parent(of: path))
  }

  /// The folder holding `path`: "." for a bare name, "/" for a name at the root.
  package static func parent(of path: String) -> String {
    let slash = path.lastIndex(of: "/")
    return slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
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
  package static func writeSegment(
    _ path: String, _ bytes: UnsafeRawBufferPointer, appending: Bool, faults: FaultPoints?
  )
    throws(SendplanError)
  {
    let fd = Sys.open(path, O_WRONLY | O_CLOEXEC | (appending ? O_APPEND : O_CREAT | O_EXCL), 0o644)
    if fd < 0 { throw ioError(appending ? "open for appending" : "create", path, errno) }
    defer { close(fd) }
    // Only a new file starts at offset 0, where the buffer's blocks line up with the file's.
    let aligned = bytes.baseAddress.map { Int(bitPattern: $0) % blockAlignment == 0 } ?? false
    let direct = !appending && aligned && bytes.count >= blockAlignment && sendplan_set_direct(fd, 1) == 0
    try writeAll(fd, bytes, path: path, faults: faults, direct: direct)
    sendplan_start_writeback(fd)
  }

  /// fsync of one file or folder.
  package static func sync(_ path: String, faults: FaultPoints?) throws(SendplanError) {
    try faults?.step("fsync", path)
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    if fd < 0 { throw ioError("open for fsync", path, errno) }
    defer { close(fd) }
    if Sys.fsync(fd, path: path) != 0 { throw ioError("fsync", path, errno) }
    try faults?.step("fsynced", path)
  }

  /// Flushes the whole file system holding `path`: one barrier for every file and folder written before it.
  package static func syncAll(_ path: String, faults: FaultPoints?) throws(SendplanError) {
    try faults?.step("syncfs", path)
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    if fd < 0 { throw ioError("open for syncfs", path, errno) }
    defer { close(fd) }
    if Sys.syncfs(fd, path: path) != 0 { throw ioError("sync the file system of", path, errno) }
    try faults?.step("syncedfs", path)
  }

  package static func truncate(_ path: String, to size: Int64, faults: FaultPoints?) throws(SendplanError) {
    try faults?.step("truncate", path)
    if Sys.truncate(path, size) != 0 { throw ioError("truncate", path, errno) }
  }
}
