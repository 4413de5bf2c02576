import Dispatch
import SendplanDiagnostics

#if canImport(Glibc)
  import Glibc
#endif

/// Where a large plain CSV file can be cut so its pieces parse on several cores.
///
/// A cut goes just after a line feed that is outside quotes: the number of `"` bytes before it is
/// even (a doubled quote inside a quoted field counts twice, so parity still says whether the
/// position is inside a quoted field). Each piece knows the physical line it starts on, so errors
/// keep their exact lines.
struct CSVSplit {
  /// Files smaller than this are read in one piece: the scan would cost more than it saves.
  package static let minPieceBytes = 8 << 20
  /// Pieces per core, at most: many small pieces end together, where a few large ones left one
  /// core parsing the last piece alone for about a tenth of the run.
  static let piecesPerCore = 8

  struct Piece {
    var range: Range<Int>
    /// The physical line the piece's first byte is on; 1 for every piece of a ``guessed`` split,
    /// whose lines are known only once the pieces before it are read.
    var firstLine: Int
  }

  var pieces: [Piece]
  /// Whether the cuts are guesses (``guess(path:name:cores:minPiece:)``) that the reader checks.
  var guessed = false
  /// The header's field names, as the first piece reads them.
  var header: [String]
  /// The line-end style of the header record, which every later record must share.
  var lineEnd: CSVTokenizer.LineEnd

  /// A plan for `path`, or nil when the file is too small, has no complete header in its first
  /// MiB, or no cut point is found (a quoted field spanning the rest of the file).
  static func plan(path: String, name: String, cores: Int, minPiece: Int = minPieceBytes) throws(SendplanError)
    -> CSVSplit?
  {
    guard let (size, count, head) = try sizing(path: path, name: name, cores: cores, minPiece: minPiece) else {
      return nil
    }
    // A range read: the scan needs no digest (the piece reader hashes the whole file).
    let source = try FileSource(path: path, name: name, range: 0..<size)
    let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
    defer { buf.deallocate() }
    var cuts: [(offset: Int, line: Int)] = [(0, 1)]
    var target = size / count
    var pos = 0
    var quotes = 0
    var lines = 1
    scan: while cuts.count < count {
      let n = try source.read(into: buf)
      if n == 0 { break }
      let p = buf.baseAddress.map { $0.assumingMemoryBound(to: UInt8.self) }
      guard let p else { break }
      var i = 0
      while i < n {
        if pos + i < target {
          // No cut before the target: only count quotes and lines, a word at a time.
          let stop = min(n, target - pos)
          let counted = quotesAndLines(UnsafeBufferPointer(start: p + i, count: stop - i))
          quotes &+= counted.quotes
          lines += counted.lines
          i = stop
          continue
        }
        let b = p[i]
        if b == 0x22 {
          quotes &+= 1
        } else if b == 0x0A {
          lines += 1
          if quotes & 1 == 0 {
            cuts.append((pos + i + 1, lines))
            target = size / count * cuts.count
            if cuts.count == count { break scan }
          }
        }
        i += 1
      }
      pos += n
    }
    guard cuts.count >= 2 else { return nil }
    var pieces: [Piece] = []
    for (k, c) in cuts.enumerated() {
      let end = k + 1 < cuts.count ? cuts[k + 1].offset : size
      if end > c.offset { pieces.append(Piece(range: c.offset..<end, firstLine: c.line)) }
    }
    return CSVSplit(pieces: pieces, header: head.names, lineEnd: head.lineEnd)
  }

  /// The file's size, the number of pieces to cut it into, and its header; nil when it is too small
  /// for two pieces or ``header(path:name:)`` finds no header.
  private static func sizing(path: String, name: String, cores: Int, minPiece: Int) throws(SendplanError) -> (
    size: Int, count: Int, head: (names: [String], lineEnd: CSVTokenizer.LineEnd)
  )? {
    var st = stat()
    guard stat(path, &st) == 0 else { return nil }
    let size = Int(st.st_size)
    // A few pieces per core: cores that finish early take another piece, so they end together
    // even beside the digest job and other tables.
    let count = min(cores * piecesPerCore, size / max(1, minPiece))
    guard count >= 2, let head = try header(path: path, name: name) else { return nil }
    return (size, count, head)
  }

  /// Cuts just after the first line feed at or after each nominal offset, found by reading a little
  /// at each one: no scan of the file. A cut is right unless that line feed is inside a quoted
  /// field. The reader knows which: the piece before a right cut ends at a record boundary, read
  /// from the start of the file on. When one does not, it reads the file by ``plan`` instead.
  /// Nil when ``plan`` would be nil for the file's size or header.
  static func guess(path: String, name: String, cores: Int, minPiece: Int = minPieceBytes) throws(SendplanError)
    -> CSVSplit?
  {
    guard let (size, count, head) = try sizing(path: path, name: name, cores: cores, minPiece: minPiece) else {
      return nil
    }
    let window = 1 << 16
    let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: window, alignment: 16)
    defer { buf.deallocate() }
    var cuts = [0]
    for k in 1..<count {
      // The first line feed at or after the nominal offset and after the last cut, before the next nominal offset.
      var at = max(size / count * k, cuts[cuts.count - 1])
      let stop = k + 1 < count ? size / count * (k + 1) : size
      let source = try FileSource(path: path, name: name, range: at..<stop)
      search: while at < stop {
        let n = try source.read(into: buf)
        guard n > 0, let p = buf.baseAddress?.assumingMemoryBound(to: UInt8.self) else { break }
        for i in 0..<n where p[i] == 0x0A {
          if at + i + 1 < size { cuts.append(at + i + 1) }
          break search
        }
        at += n
      }
    }
    guard cuts.count >= 2 else { return nil }
    var pieces: [Piece] = []
    for (k, c) in cuts.enumerated() {
      pieces.append(Piece(range: c..<(k + 1 < cuts.count ? cuts[k + 1] : size), firstLine: 1))
    }
    return CSVSplit(pieces: pieces, guessed: true, header: head.names, lineEnd: head.lineEnd)
  }

  /// The first record of the file, read from its first MiB; nil when it does not end there or is
  /// not UTF-8 (the one-piece reader then reports the problem exactly).
  static func header(path: String, name: String) throws(SendplanError) -> (
    names: [String], lineEnd: CSVTokenizer.LineEnd
  )? {
    let source = try FileSource(path: path, name: name, range: 0..<(1 << 20))
    let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
    defer { buf.deallocate() }
    let n = try source.read(into: buf)
    guard let base = buf.baseAddress?.assumingMemoryBound(to: UInt8.self), n > 0 else { return nil }
    var p = UnsafeBufferPointer(start: base, count: n)
    if n >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF { p = UnsafeBufferPointer(rebasing: p[3...]) }
    let tok = CSVTokenizer(file: name)
    var names: [String]?
    var first = true
    // Up to one line feed at a time, so that what follows the header (a CSV error, say) is not read.
    var from = 0
    while first, from < p.count {
      var to = from
      while to < p.count && p[to] != 0x0A { to += 1 }
      to = min(to + 1, p.count)
      do {
        try tok.feed(UnsafeBufferPointer(rebasing: p[from..<to])) { () throws(SendplanError) in
          // Only the first record is the header; one that is not UTF-8 leaves the file in one piece.
          guard first else { return }
          first = false
          guard tok.recordIsValidUTF8() else { return }
          var all: [String] = []
          for f in 0..<tok.fieldCount {
            all.append(try tok.withField(f) { q throws(SendplanError) in String(decoding: q, as: UTF8.self) })
          }
          names = all
        }
      } catch {
        return nil
      }
      from = to
    }
    guard let names, tok.lineEndStyle != .unknown else { return nil }
    return (names, tok.lineEndStyle)
  }
}

/// How many quote and line-feed bytes `p` holds, eight bytes at a time (an exact zero-byte test,
/// no false hits), in one pass.
func quotesAndLines(_ p: UnsafeBufferPointer<UInt8>) -> (quotes: Int, lines: Int) {
  guard let base = p.baseAddress else { return (0, 0) }
  let n = p.count
  let quote: UInt64 = 0x2222_2222_2222_2222
  let lf: UInt64 = 0x0A0A_0A0A_0A0A_0A0A
  let low7: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
  var quotes = 0
  var lines = 0
  var i = 0
  while i + 8 <= n {
    let w = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
    let q = w ^ quote
    let l = w ^ lf
    quotes &+= (~(((q & low7) &+ low7) | q | low7)).nonzeroBitCount
    lines &+= (~(((l & low7) &+ low7) | l | low7)).nonzeroBitCount
    i += 8
  }
  while i < n {
    if base[i] == 0x22 { quotes &+= 1 } else if base[i] == 0x0A { lines &+= 1 }
    i += 1
  }
  return (quotes, lines)
}
