import SendplanDiagnostics

#if canImport(Glibc)
  import Glibc
#endif

/// A non-blocking `flock` on a file, held until released or the process ends.
package final class FileLock: Sendable {
  let fd: Int32

  /// Takes the lock at once or throws `busy`, naming the holder's pid when it is known. An
  /// exclusive holder writes its pid into the file. `what` names the lock in messages ("the audit lock").
  package init(path: String, exclusive: Bool, what: String) throws(SendplanError) {
    let fd = Sys.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
    if fd < 0 {
      throw SendplanError(
        .cannotCreate, code: "lock_unavailable", path: path,
        message: "cannot open the lock file: \(FS.errorText(errno))",
        fix: "make sure the folder exists and is writable")
    }
    if flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0 {
      let err = errno
      var buf = [UInt8](repeating: 0, count: 32)
      let n = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 32, 0) }
      close(fd)
      let holder = n > 0 ? String(decoding: buf[0..<n], as: UTF8.self).filter(\.isNumber) : ""
      guard err == EWOULDBLOCK else {
        throw SendplanError(
          .io, code: "lock_failed", path: path, message: "cannot lock: \(FS.errorText(err))",
          fix: "check the file system")
      }
      throw SendplanError(
        .busy, code: "audit_locked", path: path,
        message: "another sendplan process\(holder.isEmpty ? "" : " (pid \(holder))") holds \(what)",
        fix:
          "wait for it to finish, then retry; never run two nightly jobs on one audit folder (shards of one run may share it)"
      )
    }
    if exclusive {
      let pid = Array("\(getpid())\n".utf8)
      _ = Sys.ftruncate(fd, 0, path: path)
      _ = pid.withUnsafeBytes { Sys.pwrite(fd, $0.baseAddress, $0.count, 0, path: path) }
    }
    self.fd = fd
  }

  deinit { close(fd) }
}
