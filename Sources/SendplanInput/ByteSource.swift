import CZlib
import Crypto
import SendplanDiagnostics
import SendplanModel

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Reads a file's raw bytes in chunks, hashing and counting them as they pass.
final class FileSource {
  private let fd: Int32
  let name: String
  private(set) var hasher = SHA256()
  /// Whether reads of the whole file feed the digest; a read that needs no digest saves the hashing.
  var hashes = true
  private(set) var byteCount = 0
  /// Where the next read starts and where to stop, when only a range of the file is read.
  private var offset = 0
  private var end: Int?

  /// Reads bytes `range` of the file only (a piece of a file parsed on several cores).
  convenience init(path: String, name: String, range: Range<Int>) throws(SendplanError) {
    try self.init(path: path, name: name)
    offset = range.lowerBound
    end = range.upperBound
  }

  init(path: String, name: String) throws(SendplanError) {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else {
      let err = errno
      throw SendplanError(
        err == ENOENT ? .missing : .io, code: "unreadable", path: name,
        message: "cannot open file: \(String(cString: strerror(err)))",
        fix: "check that the file exists and is readable")
    }
    self.fd = fd
    self.name = name
  }

  deinit { close(fd) }

  /// Fills `buffer` from the start; returns 0 at end of file.
  func read(into buffer: UnsafeMutableRawBufferPointer) throws(SendplanError) -> Int {
    while true {
      let want = end.map { min(buffer.count, $0 - offset) } ?? buffer.count
      if want <= 0 { return 0 }
      let n = end == nil ? Glibc.read(fd, buffer.baseAddress, want) : pread(fd, buffer.baseAddress, want, off_t(offset))
      if n < 0 {
        let err = errno
        if err == EINTR { continue }
        throw SendplanError(
          .io, code: "read_failed", path: name, line: nil,
          message: "read failed: \(String(cString: strerror(err)))",
          fix: "check the disk and file permissions, then re-run")
      }
      if n > 0 {
        if end == nil && hashes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<n])) }
        byteCount += n
        offset += n
      }
      return n
    }
  }

  /// Reads on to the end of the file (or of the range), handing each chunk to `body`.
  func readToEnd(chunk: Int = 1 << 16, _ body: (UnsafeBufferPointer<UInt8>) -> Void = { _ in }) throws(SendplanError) {
    let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 16)
    defer { buf.deallocate() }
    while true {
      let n = try read(into: buf)
      guard n > 0, let p = buf.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
      body(UnsafeBufferPointer(start: p, count: n))
    }
  }

  /// Lower-case hex SHA-256 of every byte read so far.
  func digestHex() -> String {
    hashes ? Hex.encode(hasher.finalize()) : ""
  }
}

/// A stream of decoded bytes: the file itself, or its gzip-inflated content.
protocol ByteStream: AnyObject {
  func read(into buffer: UnsafeMutableRawBufferPointer) throws(SendplanError) -> Int
}

extension FileSource: ByteStream {}

/// Inflates gzip (including concatenated members) with zlib.
final class GzipStream: ByteStream {
  private let source: FileSource
  private var stream = z_stream()
  private var input: UnsafeMutableRawBufferPointer
  private var finished = false
  private var sawEnd = false

  init(source: FileSource) throws(SendplanError) {
    self.source = source
    input = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 18, alignment: 16)
    let rc = inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
    guard rc == Z_OK else {
      input.deallocate()
      throw SendplanError(
        .io, code: "zlib_init", path: source.name, line: nil,
        message: "zlib could not start (code \(rc))", fix: "check the zlib installation")
    }
  }

  deinit {
    inflateEnd(&stream)
    input.deallocate()
  }

  private func corrupt(_ detail: String) -> SendplanError {
    SendplanError(
      .badData, code: "bad_gzip", path: source.name, line: nil,
      message: "the gzip data is corrupt or truncated (\(detail))",
      fix: "re-export the file or recompress it with gzip")
  }

  func read(into buffer: UnsafeMutableRawBufferPointer) throws(SendplanError) -> Int {
    if finished { return 0 }
    stream.next_out = buffer.baseAddress?.assumingMemoryBound(to: Bytef.self)
    stream.avail_out = uInt(buffer.count)
    while stream.avail_out > 0 {
      if stream.avail_in == 0 {
        let n = try source.read(into: input)
        if n == 0 {
          if source.byteCount == 0 { throw corrupt("empty file") }
          if sawEnd {
            finished = true
            break
          }
          throw corrupt("unexpected end of data")
        }
        stream.next_in = input.baseAddress?.assumingMemoryBound(to: Bytef.self)
        stream.avail_in = uInt(n)
      }
      sawEnd = false
      let rc = inflate(&stream, Z_NO_FLUSH)
      if rc == Z_STREAM_END {
        sawEnd = true
        // Another member may follow; reset and continue if input remains.
        inflateReset(&stream)
      } else if rc != Z_OK && rc != Z_BUF_ERROR {
        let msg = stream.msg.map { String(cString: $0) } ?? "code \(rc)"
        throw corrupt(msg)
      }
    }
    return buffer.count - Int(stream.avail_out)
  }
}
