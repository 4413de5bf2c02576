import SendplanDiagnostics

#if canImport(Glibc)
  import Glibc
#endif

/// A buffered, write-only file. Call `close()` to flush; errors surface there or on `flushIfNeeded`.
package final class OutputFile {
  package let path: String
  private let fd: Int32
  private var closed = false

  package init(path: String) throws(SendplanError) {
    let fd = Sys.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else {
      let err = errno
      throw SendplanError(
        .cannotCreate, code: "create_failed", path: path, message: "cannot create file: \(FS.errorText(err))",
        fix: "check that the output folder is writable")
    }
    self.fd = fd
    self.path = path
  }

  deinit {
    if !closed { Glibc.close(fd) }
  }

  package func write(_ bytes: [UInt8]) throws(SendplanError) {
    var failure: SendplanError?
    bytes.withUnsafeBytes { p in
      do throws(SendplanError) { try write(p) } catch { failure = error }
    }
    if let failure { throw failure }
  }

  /// Writes `p` whole, for writers that keep their own buffer.
  package func write(_ p: UnsafeRawBufferPointer) throws(SendplanError) {
    var failure: Int32 = 0
    if let base = p.baseAddress {
      var off = 0
      while off < p.count {
        let n = Sys.write(fd, base + off, p.count - off, path: path)
        if n < 0 {
          if errno == EINTR { continue }
          failure = errno
          break
        }
        off += n
      }
    }
    if failure != 0 {
      throw SendplanError(
        .io, code: "write_failed", path: path, message: "write failed: \(FS.errorText(failure))",
        fix: "free disk space or fix the file system, then re-run")
    }
  }

  /// Writes and empties `buffer` once it holds more than `threshold` bytes.
  package func flushIfNeeded(_ buffer: inout [UInt8], threshold: Int = 1 << 20) throws(SendplanError) {
    if buffer.count >= threshold {
      try write(buffer)
      buffer.removeAll(keepingCapacity: true)
    }
  }

  /// Closes the file. With a `syncer`, the fsync and close happen on its thread instead.
  package func close(sync: Bool, syncer: Syncer? = nil) throws(SendplanError) {
    closed = true
    if sync, let syncer {
      syncer.enqueue(fd: fd, path: path)
      return
    }
    if sync && Sys.fsync(fd, path: path) != 0 {
      let err = errno
      Glibc.close(fd)
      throw SendplanError(
        .io, code: "sync_failed", path: path, message: "fsync failed: \(FS.errorText(err))",
        fix: "free disk space or fix the file system, then re-run")
    }
    if Glibc.close(fd) != 0 {
      let err = errno
      throw SendplanError(
        .io, code: "close_failed", path: path, message: "close failed: \(FS.errorText(err))",
        fix: "free disk space or fix the file system, then re-run")
    }
  }

  /// Writes a whole file in one go.
  package static func write(_ bytes: [UInt8], to path: String, sync: Bool, syncer: Syncer? = nil) throws(SendplanError)
  {
    let f = try OutputFile(path: path)
    try f.write(bytes)
    try f.close(sync: sync, syncer: syncer)
  }
}
