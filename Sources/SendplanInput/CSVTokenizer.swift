import SendplanDiagnostics

#if canImport(Glibc)
  import Glibc
#endif

/// An RFC 4180 tokenizer over byte chunks that enforces the strict rules of planning-rules §5.
///
/// Field bytes of the current record are collected in one buffer, so a record may span any
/// number of chunks. Records are handed out through `emit` with the physical line they start on.
final class CSVTokenizer {
  private enum State {
    case fieldStart, unquoted, quoted, quoteInQuoted, afterCR
  }

  enum LineEnd {
    case unknown, lf, crlf
  }

  let file: String
  // The record's bytes and field ends live in buffers the tokenizer owns, not in arrays: array
  // appends (uniqueness and capacity checks, generic copies) were a tenth of all parse time.
  // Unchecked: the tokenizer is confined to one reader thread, and dynamic exclusivity checks on
  // these hot properties cost a tenth of all parse time (docs/decisions.md, Performance shape).
  /// Bytes of the current record's fields, back to back.
  @exclusivity(unchecked) private var bytes: UnsafeMutablePointer<UInt8>
  @exclusivity(unchecked) private var capacity: Int
  @exclusivity(unchecked) private var count = 0
  /// End offset in `bytes` of each completed field; field `i` starts at `ends[i-1]`.
  @exclusivity(unchecked) private var ends: UnsafeMutablePointer<Int>
  @exclusivity(unchecked) private var endsCapacity: Int
  @exclusivity(unchecked) private(set) var fieldCount = 0
  /// Where the current record's fields are: `bytes`, back to back, or, for a record the fast
  /// path found whole in one chunk, the chunk itself, where fields are one comma apart (`gap` 1).
  @exclusivity(unchecked) private var base: UnsafePointer<UInt8>
  @exclusivity(unchecked) private var gap = 0
  /// Bytes of the current record at `base`: `count`, or the in-chunk record's length.
  @exclusivity(unchecked) private var span = 0
  /// Whether the fast path saw only ASCII bytes in the current (in-chunk) record.
  @exclusivity(unchecked) private var spanIsASCII = false
  @exclusivity(unchecked) private var state = State.fieldStart
  @exclusivity(unchecked) private var lineEnd = LineEnd.unknown
  @exclusivity(unchecked) private var started = false
  @exclusivity(unchecked) private var line = 1
  @exclusivity(unchecked) private(set) var recordLine = 1
  /// The line the input started on.
  private let firstLine: Int
  /// Bytes and fields one record may take; the tokenizer fails before it holds more.
  private let maxRecordBytes: Int
  private let maxFields: Int

  /// `line` is the physical line the input starts on; `lineEnd` the file's style when it is known
  /// already (a piece of a file after its first record).
  init(file: String, line: Int = 1, lineEnd: LineEnd = .unknown, limits: ReadLimits = .default) {
    self.file = file
    self.maxRecordBytes = limits.maxRecordBytes
    self.maxFields = limits.maxFields
    self.line = line
    self.recordLine = line
    self.firstLine = line
    self.lineEnd = lineEnd
    capacity = 4096
    bytes = .allocate(capacity: capacity)
    base = UnsafePointer(bytes)
    endsCapacity = 16
    ends = .allocate(capacity: endsCapacity)
  }

  deinit {
    bytes.deallocate()
    ends.deallocate()
  }

  /// Whether every field of the current record is valid UTF-8: the record's bytes in one pass, plus
  /// no field boundary inside a character (the fields are stored back to back).
  func recordIsValidUTF8() -> Bool {
    if gap != 0 && spanIsASCII { return true }
    let p = UnsafeBufferPointer(start: base, count: gap == 0 ? count : span)
    if isASCII(p) { return true }
    guard isValidUTF8(p) else { return false }
    // In a chunk the fields are still apart (commas are ASCII), so the one pass decides.
    if gap != 0 { return true }
    for k in 0..<fieldCount {
      let e = ends[k]
      if e < count && p[e] & 0xC0 == 0x80 { return false }
    }
    return true
  }

  /// Whether field `i` holds exactly `value`'s bytes.
  func field(_ i: Int, equals value: [UInt8]) -> Bool {
    sameBytes(fieldBytes(i), value)
  }

  /// Whether the input so far ends at a record boundary: outside quotes, with no record begun.
  var atRecordStart: Bool { state == .fieldStart && !started }

  /// The line feeds read so far, quoted ones included.
  var lineFeeds: Int { line - firstLine }

  /// The line-end style seen so far.
  var lineEndStyle: LineEnd { lineEnd }

  /// The bytes of field `i` of the current record; valid until the tokenizer is fed again.
  @inline(__always)
  func fieldBytes(_ i: Int) -> UnsafeBufferPointer<UInt8> {
    let start = i == 0 ? 0 : ends[i - 1] + gap
    return UnsafeBufferPointer(start: base + start, count: ends[i] - start)
  }

  /// The current record: field `i` is `bytes[start..<ends[i]]` with `start` 0 for the first field
  /// and `ends[i - 1] + gap` after it. Valid until the tokenizer is fed again.
  var record: (bytes: UnsafePointer<UInt8>, ends: UnsafePointer<Int>, gap: Int) { (base, UnsafePointer(ends), gap) }

  /// Calls `body` with the bytes of field `i` of the current record.
  @inline(__always)
  func withField<R>(_ i: Int, _ body: (UnsafeBufferPointer<UInt8>) throws(SendplanError) -> R) throws(SendplanError)
    -> R
  {
    try body(fieldBytes(i))
  }

  /// Errors name the first physical line of the record, as planning-rules §5 asks.
  private func fail(_ code: String, _ message: String, _ fix: String) -> SendplanError {
    SendplanError(.badData, code: code, path: file, line: recordLine, message: message, fix: fix)
  }

  @inline(__always)
  private func endField() throws(SendplanError) {
    guard fieldCount < maxFields else {
      throw fail(
        "csv_too_many_fields", "the record has more than \(maxFields) fields",
        "check the file's delimiters; a record may have at most \(maxFields) fields")
    }
    try reserve(1)
    if fieldCount == endsCapacity { growEnds(keeping: fieldCount) }
    ends[fieldCount] = count
    fieldCount += 1
  }

  /// Fails when `more` bytes would take the record past the limit; a field separator counts as one byte.
  @inline(__always)
  private func reserve(_ more: Int) throws(SendplanError) {
    guard count + fieldCount + more <= maxRecordBytes else {
      throw fail(
        "record_too_large", "the record is larger than the limit of \(maxRecordBytes) bytes",
        "check the field for a missing closing quote, or raise --max-record-bytes if such records are expected")
    }
  }

  /// Appends `n` bytes at `p` to the record; `reserve` has checked the limit.
  @inline(__always)
  private func append(_ p: UnsafePointer<UInt8>, _ n: Int) {
    if count + n > capacity { grow(count + n) }
    (bytes + count).update(from: p, count: n)
    count += n
  }

  private func grow(_ needed: Int) {
    var c = capacity * 2
    while c < needed { c *= 2 }
    let b = UnsafeMutablePointer<UInt8>.allocate(capacity: c)
    b.update(from: bytes, count: count)
    bytes.deallocate()
    bytes = b
    base = UnsafePointer(b)
    capacity = c
  }

  /// Doubles the field-end buffer, keeping its first `kept` entries (the fast path's fields are
  /// not in `fieldCount` yet).
  private func growEnds(keeping kept: Int) {
    let c = endsCapacity * 2
    let e = UnsafeMutablePointer<Int>.allocate(capacity: c)
    e.update(from: ends, count: kept)
    ends.deallocate()
    ends = e
    endsCapacity = c
  }

  private func endRecord(_ style: LineEnd, emit: () throws(SendplanError) -> Void) throws(SendplanError) {
    if lineEnd == .unknown {
      lineEnd = style
    } else if lineEnd != style {
      throw fail(
        "csv_mixed_line_ends", "the file mixes LF and CRLF line ends",
        "convert the whole file to one line-end style (all LF or all CRLF)")
    }
    if started {
      try emit()
    }
    count = 0
    fieldCount = 0
    started = false
    state = .fieldStart
    line += 1
    recordLine = line
  }

  private func quoteInUnquoted() -> SendplanError {
    let start = fieldCount == 0 ? 0 : ends[fieldCount - 1]
    let soFar = UnsafeBufferPointer(start: bytes + start, count: count - start)
    if soFar.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
      return fail(
        "csv_space_before_quote", "white space before an opening quote",
        "remove the spaces between the comma and the opening quote")
    }
    return fail(
      "csv_quote_in_unquoted", "a quote character inside an unquoted field",
      "quote the whole field and double the quote inside it (\"like \"\"this\"\"\")")
  }

  /// Consumes one chunk of decoded bytes.
  func feed(_ chunk: UnsafeBufferPointer<UInt8>, emit: () throws(SendplanError) -> Void) throws(SendplanError) {
    guard let p = chunk.baseAddress else { return }
    let n = chunk.count
    var i = 0
    while i < n {
      if lineEnd == .lf && state == .fieldStart && !started {
        // At a record's start: most records are plain and whole in the chunk.
        let used = try plainRecord(p + i, n - i, emit: emit)
        if used > 0 {
          i += used
          continue
        }
      }
      let c = p[i]
      switch state {
      case .fieldStart, .unquoted:
        switch c {
        case 0x2C:
          started = true
          try endField()
          state = .fieldStart
          i += 1
        case 0x0A:
          if started { try endField() }
          try endRecord(.lf, emit: emit)
          i += 1
        case 0x0D:
          state = .afterCR
          i += 1
        case 0x22:
          if state == .fieldStart {
            started = true
            state = .quoted
            i += 1
          } else {
            throw quoteInUnquoted()
          }
        default:
          started = true
          state = .unquoted
          var j = i + 1
          // The four bytes that end a run are all at most 0x2C; most field bytes are above it.
          while j < n {
            let d = p[j]
            if d <= 0x2C && (d == 0x2C || d == 0x0A || d == 0x0D || d == 0x22) { break }
            j += 1
          }
          try reserve(j - i)
          append(p + i, j - i)
          i = j
        }
      case .quoted:
        var j = i
        while j < n {
          let d = p[j]
          if d == 0x22 { break }
          if d == 0x0A { line += 1 }
          j += 1
        }
        if j > i {
          try reserve(j - i)
          append(p + i, j - i)
        }
        if j < n {
          state = .quoteInQuoted
          j += 1
        }
        i = j
      case .quoteInQuoted:
        switch c {
        case 0x22:
          try reserve(1)
          append(p + i, 1)
          state = .quoted
        case 0x2C:
          try endField()
          state = .fieldStart
        case 0x0A:
          try endField()
          try endRecord(.lf, emit: emit)
        case 0x0D:
          state = .afterCR
        default:
          throw fail(
            "csv_text_after_quote", "unexpected text after a closing quote",
            "a quoted field must be followed by a comma or a line end; double any quote inside it")
        }
        i += 1
      case .afterCR:
        guard c == 0x0A else {
          throw fail(
            "csv_bare_cr", "a carriage return (CR) that is not part of a CRLF line end",
            "remove the stray CR or quote the field that contains it")
        }
        if started { try endField() }
        try endRecord(.crlf, emit: emit)
        i += 1
      }
    }
  }

  /// Reads one record at `p` if it ends with LF within the `n` bytes, has no quote or CR, and
  /// is within the limits; it is then handed out in place, not copied. Returns the bytes used,
  /// or 0 to leave the record to the state machine, which also reports every error exactly.
  @inline(__always)
  private func plainRecord(_ p: UnsafePointer<UInt8>, _ n: Int, emit: () throws(SendplanError) -> Void)
    throws(SendplanError) -> Int
  {
    if p[0] == 0x0A {
      // A blank line: no record, as in `endRecord`.
      line += 1
      recordLine = line
      return 1
    }
    var nf = 0
    var i = 0
    var end = -1
    var bits: UInt64 = 0
    // Bytes below 0x2D are candidates (the four that matter are all there); check each exactly.
    let ones: UInt64 = 0x0101_0101_0101_0101
    let high: UInt64 = 0x8080_8080_8080_8080
    let low7: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
    scan: while i < n {
      var m: UInt64
      var width = 8
      if i + 8 <= n {
        let w = UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self)
        bits |= w
        m = ~(((w & low7) &+ (0x80 - 0x2D) &* ones) | w) & high
      } else {
        width = 1
        bits |= UInt64(p[i])
        m = p[i] < 0x2D ? 0x80 : 0
      }
      while m != 0 {
        let k = i + m.trailingZeroBitCount >> 3
        let c = p[k]
        if c == 0x2C || c == 0x0A {
          guard nf < maxFields else { return 0 }
          if nf == endsCapacity { growEnds(keeping: nf) }
          ends[nf] = k
          nf += 1
          if c == 0x0A {
            end = k
            break scan
          }
        } else if c == 0x22 || c == 0x0D {
          return 0
        }
        m &= m - 1
      }
      i += width
    }
    // Content plus one byte per field is the record's length plus one (see `reserve`).
    guard end >= 0, end + 1 <= maxRecordBytes else { return 0 }
    base = p
    gap = 1
    span = end
    // The words read may run past the line feed; a high bit there only costs the full check.
    spanIsASCII = bits & high == 0
    fieldCount = nf
    defer {
      base = UnsafePointer(bytes)
      gap = 0
      fieldCount = 0
    }
    try emit()
    line += 1
    recordLine = line
    return end + 1
  }

  /// Flushes the last record at end of input.
  func finish(emit: () throws(SendplanError) -> Void) throws(SendplanError) {
    switch state {
    case .quoted:
      throw fail(
        "csv_unterminated_quote", "a quoted field is never closed", "add the missing closing quote")
    case .afterCR:
      throw fail(
        "csv_bare_cr", "a carriage return (CR) that is not part of a CRLF line end",
        "remove the stray CR at the end of the file")
    default:
      if started {
        try endField()
        try emit()
      }
    }
  }
}
