import Dispatch
import SendplanDiagnostics
import Synchronization

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
  package static let minPieceBytes = 24 << 20
  /// Pieces per core, at most.
  static let piecesPerCore = 3

  struct Piece {
    var range: Range<Int>
    /// The physical line the piece's first byte is on.
    var firstLine: Int
  }

  var pieces: [Piece]
  /// The header's field names, as the first piece reads them.
  var header: [String]
  /// The line-end style of the header record, which every later record must share.
  var lineEnd: CSVTokenizer.LineEnd

  /// A plan for `path`, or nil when the file is too small, has no complete header in its first
  /// MiB, or no cut point is found (a quoted field spanning the rest of the file).
  static func plan(path: String, name: String, cores: Int, minPiece: Int = minPieceBytes) throws(SendplanError)
    -> CSVSplit?
  {
    var st = stat()
    guard stat(path, &st) == 0 else { return nil }
    let size = Int(st.st_size)
    // A few pieces per core: cores that finish early take another piece, so they end together
    // even beside the digest job and other tables.
    let count = min(cores * piecesPerCore, size / max(1, minPiece))
    guard count >= 2, let head = try header(path: path, name: name) else { return nil }
    let cuts = try cutPoints(path: path, name: name, size: size, count: count)
    guard cuts.count >= 2 else { return nil }
    var pieces: [Piece] = []
    for (k, c) in cuts.enumerated() {
      let end = k + 1 < cuts.count ? cuts[k + 1].offset : size
      if end > c.offset { pieces.append(Piece(range: c.offset..<end, firstLine: c.line)) }
    }
    return CSVSplit(pieces: pieces, header: head.names, lineEnd: head.lineEnd)
  }

  /// What one stretch of the file holds, as its own job counts it.
  struct Stretch {
    var quotes = 0
    var lines = 0
    /// Just after the stretch's first line feed preceded by an even number of quotes counted from
    /// the stretch's start, with the line feeds up to and including it; nil when there is none.
    var evenCut: (offset: Int, lines: Int)?
  }

  /// The cut points for `count` pieces of a file of `size` bytes: the file's start, then for each
  /// nominal offset `size / count * k` the first line feed at or after it outside quotes (cuts that
  /// coincide count once). Each stretch between nominal offsets is counted by its own job, on
  /// every core, instead of one serial scan before the pieces start (it was a tenth of the wall
  /// time of `validate`); the parity at each offset is then the sum of the stretches before it.
  static func cutPoints(path: String, name: String, size: Int, count: Int) throws(SendplanError) -> [(
    offset: Int, line: Int
  )] {
    let step = size / count
    let bounds = (0...count).map { $0 == count ? size : step * $0 }
    let results = Mutex<[Result<Stretch, SendplanError>?]>(Array(repeating: nil, count: count))
    @Sendable func countStretch(_ k: Int) {
      let r: Result<Stretch, SendplanError>
      do throws(SendplanError) {
        r = .success(try stretch(path: path, name: name, range: bounds[k]..<bounds[k + 1]))
      } catch {
        r = .failure(error)
      }
      results.withLock { $0[k] = r }
    }
    // Not concurrentPerform: nested inside the bundle's own concurrentPerform it would run serially.
    let group = DispatchGroup()
    for k in 0..<count {
      DispatchQueue.global().async(group: group) { countStretch(k) }
    }
    group.wait()
    var stretches: [Stretch] = []
    for r in results.withLock({ $0 }) {
      switch r {
      case .success(let s)?: stretches.append(s)
      case .failure(let e)?: throw e
      case nil: return []
      }
    }
    var cuts: [(offset: Int, line: Int)] = [(0, 1)]
    var quotes = stretches[0].quotes
    var lines = stretches[0].lines
    for k in 1..<count {
      let cut: (offset: Int, line: Int)?
      if quotes & 1 == 0 {
        // No cut in this stretch: the first one after its start is the next stretch's.
        cut = stretches[k].evenCut.map { ($0.offset, lines + 1 + $0.lines) }
      } else {
        // The offset is inside a quoted field: rare, so scanned on its own.
        cut = try firstCut(path: path, name: name, from: bounds[k], size: size, quotes: quotes, lines: lines)
      }
      if let cut, cut.offset > cuts[cuts.count - 1].offset, cut.offset < size { cuts.append(cut) }
      quotes &+= stretches[k].quotes
      lines += stretches[k].lines
    }
    return cuts
  }

  /// Counts the quotes and line feeds of bytes `range` and finds its first even cut.
  static func stretch(path: String, name: String, range: Range<Int>) throws(SendplanError) -> Stretch {
    let source = try FileSource(path: path, name: name, range: range)
    let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
    defer { buf.deallocate() }
    var out = Stretch()
    var pos = range.lowerBound
    while true {
      let n = try source.read(into: buf)
      guard n > 0, let p = buf.baseAddress?.assumingMemoryBound(to: UInt8.self) else { break }
      var i = 0
      // Byte by byte only until the first even cut, usually within the first record.
      while out.evenCut == nil && i < n {
        let b = p[i]
        if b == 0x22 {
          out.quotes &+= 1
        } else if b == 0x0A {
          out.lines += 1
          if out.quotes & 1 == 0 { out.evenCut = (pos + i + 1, out.lines) }
        }
        i += 1
      }
      let counted = quotesAndLines(UnsafeBufferPointer(start: p + i, count: n - i))
      out.quotes &+= counted.quotes
      out.lines += counted.lines
      pos += n
    }
    return out
  }

  /// Just after the first line feed at or after `from` that is outside quotes, given the quotes and
  /// line feeds before `from`; nil when the rest of the file has none.
  static func firstCut(path: String, name: String, from: Int, size: Int, quotes: Int, lines: Int)
    throws(SendplanError) -> (offset: Int, line: Int)?
  {
    let source = try FileSource(path: path, name: name, range: from..<size)
    let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
    defer { buf.deallocate() }
    var quotes = quotes
    var lines = lines
    var pos = from
    while true {
      let n = try source.read(into: buf)
      guard n > 0, let p = buf.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return nil }
      for i in 0..<n {
        let b = p[i]
        if b == 0x22 {
          quotes &+= 1
        } else if b == 0x0A {
          lines += 1
          if quotes & 1 == 0 { return (pos + i + 1, lines + 1) }
        }
      }
      pos += n
    }
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
    do {
      try tok.feed(p) { () throws(SendplanError) in
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
