import CSendplanSys
import SendplanDiagnostics

#if canImport(Glibc)
  import Glibc
#endif

/// The project's one set of POSIX file helpers. Every error names the path and the system's reason.
///
/// Steps that make data durable (writes, syncs, renames) take optional ``FaultPoints``, so the crash
/// and disk-full tests can stop or fail a run at any one of them.
package enum FS {
  /// Block size and buffer alignment for `O_DIRECT` writes.
  package static let blockAlignment = 4096

  package static func errorText(_ err: Int32) -> String { String(cString: strerror(err)) }

  package static func ioError(_ what: String, _ path: String, _ err: Int32) -> SendplanError {
    SendplanError(
      .io, code: "io_error", path: path, message: "cannot \(what): \(errorText(err))",
      fix: "check the file system (free space, permissions), then re-run")
  }

  package static func exists(_ path: String) -> Bool {
    var st = stat()
    return lstat(path, &st) == 0
  }

  /// With `followingLinks` false, a symbolic link to a folder is not a folder.
  package static func isDirectory(_ path: String, followingLinks: Bool = false) -> Bool {
    var st = stat()
    let r = followingLinks ? stat(path, &st) : lstat(path, &st)
    return r == 0 && (st.st_mode & S_IFMT) == S_IFDIR
  }

  package static func size(_ path: String) -> Int64? {
    var st = stat()
    guard stat(path, &st) == 0 else { return nil }
    return Int64(st.st_size)
  }

  /// The file's mode bits, when it exists.
  package static func mode(_ path: String) -> UInt32? {
    var st = stat()
    guard stat(path, &st) == 0 else { return nil }
    return UInt32(st.st_mode)
  }

  /// Creates a folder; with `existingOK`, one that exists already is fine.
  package static func makeDirectory(_ path: String, existingOK: Bool = false) throws(SendplanError) {
    if Sys.mkdir(path, 0o755) != 0 {
      let err = errno
      if existingOK && err == EEXIST { return }
      throw SendplanError(
        .cannotCreate, code: "mkdir_failed", path: path,
        message: "cannot create folder: \(errorText(err))",
        fix: "check that the parent folder exists and is writable")
    }
  }

  /// Swaps two paths atomically (`renameat2` with `RENAME_EXCHANGE`); returns the errno on failure.
  package static func exchange(_ a: String, _ b: String) -> Int32? {
    Sys.exchange(a, b) == 0 ? nil : errno
  }

  /// Atomically puts `from` in place of `to`. With `keepingOld`, an existing `to` is swapped with
  /// `from` (`renameat2` with `RENAME_EXCHANGE`) rather than replaced, so its inode stays linked under
  /// `from`, to be overwritten next time.
  ///
  /// Replacing frees the old inode, and ext4 without a journal then inspects each recently freed inode
  /// it passes when allocating: a run that replaced a thousand heads made the next run's file
  /// creations in the same folders ten times slower.
  package static func rename(_ from: String, _ to: String, keepingOld: Bool = false, faults: FaultPoints?)
    throws(SendplanError)
  {
    try faults?.step("rename", to)
    var swapped = false
    if keepingOld && exists(to) {
      // Without RENAME_EXCHANGE (some file systems), the plain rename below is just as atomic.
      if let err = exchange(from, to) {
        if err != EINVAL && err != ENOSYS && err != ENOTSUP { throw ioError("swap \(from) with", to, err) }
      } else {
        swapped = true
      }
    }
    if !swapped && Sys.rename(from, to) != 0 { throw ioError("rename \(from) to", to, errno) }
    try faults?.step("renamed", to)
  }

  /// Syncs a folder so that renames inside it survive a crash.
  package static func syncDirectory(_ path: String) throws(SendplanError) {
    let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard fd >= 0 else {
      let err = errno
      throw SendplanError(
        .io, code: "sync_failed", path: path, message: "cannot open folder to sync: \(errorText(err))",
        fix: "check the file system, then re-run")
    }
    defer { close(fd) }
    if Sys.fsync(fd, path: path) != 0 {
      let err = errno
      throw SendplanError(
        .io, code: "sync_failed", path: path, message: "fsync failed: \(errorText(err))",
        fix: "check the file system, then re-run")
    }
  }

  /// Removes a file tree without following symbolic links.
  package static func removeTree(_ path: String) throws(SendplanError) {
    var st = stat()
    guard lstat(path, &st) == 0 else { return }
    if (st.st_mode & S_IFMT) == S_IFDIR {
      if let dir = opendir(path) {
        var names: [String] = []
        while let entry = readdir(dir) {
          let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
          }
          if name != "." && name != ".." { names.append(name) }
        }
        closedir(dir)
        for n in names { try removeTree(path + "/" + n) }
      }
      if Sys.rmdir(path) != 0 {
        let err = errno
        throw SendplanError(
          .io, code: "remove_failed", path: path, message: "cannot remove folder: \(errorText(err))",
          fix: "remove it by hand, then re-run")
      }
    } else if Sys.unlink(path) != 0 {
      let err = errno
      throw SendplanError(
        .io, code: "remove_failed", path: path, message: "cannot remove file: \(errorText(err))",
        fix: "remove it by hand, then re-run")
    }
  }

  /// Names in a folder, sorted byte-wise; empty when it does not exist.
  package static func list(_ path: String) throws(SendplanError) -> [String] {
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
