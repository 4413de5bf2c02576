import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// POSIX file helpers that report errors as ``OutputError``.
enum FS {
  static func errorText(_ err: Int32) -> String { String(cString: strerror(err)) }

  static func makeDirectory(_ path: String) throws(OutputError) {
    if mkdir(path, 0o755) != 0 {
      let err = errno
      throw OutputError(
        kind: .cannotCreate, code: "mkdir_failed", path: path,
        message: "cannot create folder: \(errorText(err))",
        fix: "check that the parent folder exists and is writable")
    }
  }

  static func exists(_ path: String) -> Bool {
    var st = stat()
    return lstat(path, &st) == 0
  }

  static func isDirectory(_ path: String) -> Bool {
    var st = stat()
    return lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
  }

  /// Syncs a folder so that renames inside it survive a crash.
  static func syncDirectory(_ path: String) throws(OutputError) {
    let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard fd >= 0 else {
      let err = errno
      throw OutputError(
        kind: .io, code: "sync_failed", path: path, message: "cannot open folder to sync: \(errorText(err))",
        fix: "check the file system, then re-run")
    }
    defer { close(fd) }
    if fsync(fd) != 0 {
      let err = errno
      throw OutputError(
        kind: .io, code: "sync_failed", path: path, message: "fsync failed: \(errorText(err))",
        fix: "check the file system, then re-run")
    }
  }

  /// Removes a file tree without following symbolic links.
  static func removeTree(_ path: String) throws(OutputError) {
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
      if rmdir(path) != 0 {
        let err = errno
        throw OutputError(
          kind: .io, code: "remove_failed", path: path, message: "cannot remove folder: \(errorText(err))",
          fix: "remove it by hand, then re-run")
      }
    } else if unlink(path) != 0 {
      let err = errno
      throw OutputError(
        kind: .io, code: "remove_failed", path: path, message: "cannot remove file: \(errorText(err))",
        fix: "remove it by hand, then re-run")
    }
  }
}

/// A buffered, write-only file. Call `close()` to flush; errors surface there or on `flushIfNeeded`.
final class OutputFile {
  let path: String
  private let fd: Int32
  private var closed = false

  init(path: String) throws(OutputError) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else {
      let err = errno
      throw OutputError(
        kind: .cannotCreate, code: "create_failed", path: path, message: "cannot create file: \(FS.errorText(err))",
        fix: "check that the output folder is writable")
    }
    self.fd = fd
    self.path = path
  }

  deinit {
    if !closed { Glibc.close(fd) }
  }

  func write(_ bytes: [UInt8]) throws(OutputError) {
    var failure: Int32 = 0
    bytes.withUnsafeBytes { p in
      guard let base = p.baseAddress else { return }
      var off = 0
      while off < p.count {
        let n = Glibc.write(fd, base + off, p.count - off)
        if n < 0 {
          if errno == EINTR { continue }
          failure = errno
          return
        }
        off += n
      }
    }
    if failure != 0 {
      throw OutputError(
        kind: .io, code: "write_failed", path: path, message: "write failed: \(FS.errorText(failure))",
        fix: "free disk space or fix the file system, then re-run")
    }
  }

  /// Writes and empties `buffer` once it holds more than `threshold` bytes.
  func flushIfNeeded(_ buffer: inout JSONBytes, threshold: Int = 1 << 20) throws(OutputError) {
    if buffer.bytes.count >= threshold {
      try write(buffer.bytes)
      buffer.bytes.removeAll(keepingCapacity: true)
    }
  }

  /// Closes the file. With a `syncer`, the fsync and close happen on its thread instead.
  func close(sync: Bool, syncer: Syncer? = nil) throws(OutputError) {
    closed = true
    if sync, let syncer {
      syncer.enqueue(fd: fd, path: path)
      return
    }
    if sync && fsync(fd) != 0 {
      let err = errno
      Glibc.close(fd)
      throw OutputError(
        kind: .io, code: "sync_failed", path: path, message: "fsync failed: \(FS.errorText(err))",
        fix: "free disk space or fix the file system, then re-run")
    }
    if Glibc.close(fd) != 0 {
      let err = errno
      throw OutputError(
        kind: .io, code: "close_failed", path: path, message: "close failed: \(FS.errorText(err))",
        fix: "free disk space or fix the file system, then re-run")
    }
  }

  /// Writes a whole file in one go.
  static func write(_ bytes: [UInt8], to path: String, sync: Bool, syncer: Syncer? = nil) throws(OutputError) {
    let f = try OutputFile(path: path)
    try f.write(bytes)
    try f.close(sync: sync, syncer: syncer)
  }
}

/// Runs fsync and close on a thread of its own, so disk flushes overlap with planning.
final class Syncer: @unchecked Sendable {
  private let cond = NSCondition()
  private var queue: [(Int32, String)] = []
  private var finished = false
  private var running = true
  private var error: OutputError?
  private var thread: Thread?

  init() {
    let t = Thread { [unowned self] in self.loop() }
    t.name = "sendplan-fsync"
    thread = t
    t.start()
  }

  func enqueue(fd: Int32, path: String) {
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
      if fsync(fd) != 0 { failure = errno }
      if Glibc.close(fd) != 0 && failure == 0 { failure = errno }
      if failure != 0 {
        cond.lock()
        if error == nil {
          error = OutputError(
            kind: .io, code: "sync_failed", path: path, message: "fsync failed: \(FS.errorText(failure))",
            fix: "free disk space or fix the file system, then re-run")
        }
        cond.unlock()
      }
    }
  }

  /// Waits until every queued file is synced and closed; throws the first failure.
  func drain() throws(OutputError) {
    cond.lock()
    finished = true
    cond.signal()
    while running { cond.wait() }
    let e = error
    cond.unlock()
    if let e { throw e }
  }
}

/// Replaces one small file atomically: a reader sees the old content or the new, never a mix.
public enum AtomicFile {
  /// Writes `path.tmp.<tag>`, fsyncs it, renames it over `path` and fsyncs the folder.
  /// `tag` keeps concurrent writers (the caller's pid) from sharing a temporary file.
  public static func replace(_ path: String, with bytes: [UInt8], tag: String) throws(OutputError) {
    let temp = path + ".tmp." + tag
    do {
      try OutputFile.write(bytes, to: temp, sync: true)
    } catch {
      unlink(temp)
      throw error
    }
    if rename(temp, path) != 0 {
      let e = errno
      unlink(temp)
      throw OutputError(
        kind: .io, code: "rename_failed", path: path, message: "cannot rename \(temp) over it: \(FS.errorText(e))",
        fix: "check the folder's permissions and free space")
    }
    let slash = path.lastIndex(of: "/")
    let dir = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
    try FS.syncDirectory(dir)
  }
}

/// Whole-file reads of small files: keys, tokens, templates, manifests, metrics.
public enum WholeFile {
  /// The file's bytes, or nil when it cannot be opened.
  public static func bytes(_ path: String) -> [UInt8]? {
    guard let f = fopen(path, "rb") else { return nil }
    defer { fclose(f) }
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
      let n = fread(&buf, 1, buf.count, f)
      if n > 0 { out.append(contentsOf: buf[0..<n]) }
      if n < buf.count { break }
    }
    return out
  }

  /// The file as text, or nil when it cannot be read or is not UTF-8.
  public static func text(_ path: String) -> String? {
    bytes(path).flatMap { String(validating: $0, as: UTF8.self) }
  }
}
