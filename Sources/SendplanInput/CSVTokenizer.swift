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
  /// Bytes of the current record's fields, back to back.
  // Unchecked: the tokenizer is confined to one reader thread, and dynamic exclusivity checks on
  // these hot properties cost a tenth of all parse time (docs/decisions.md, Performance shape).
  @exclusivity(unchecked) private(set) var bytes: [UInt8] = []
  /// End offset in `bytes` of each completed field; field `i` starts at `ends[i-1]`.
  @exclusivity(unchecked) private(set) var ends: [Int] = []
  @exclusivity(unchecked) private var state = State.fieldStart
  @exclusivity(unchecked) private var lineEnd = LineEnd.unknown
  @exclusivity(unchecked) private var started = false
  @exclusivity(unchecked) private var line = 1
  @exclusivity(unchecked) private(set) var recordLine = 1
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
    self.lineEnd = lineEnd
    bytes.reserveCapacity(4096)
    ends.reserveCapacity(16)
  }

  var fieldCount: Int { ends.count }

  /// Whether every field of the current record is valid UTF-8: the record's bytes in one pass, plus
  /// no field boundary inside a character (the fields are stored back to back).
  func recordIsValidUTF8() -> Bool {
    bytes.withUnsafeBufferPointer { p in
      guard isValidUTF8(p) else { return false }
      for e in ends where e < p.count && p[e] & 0xC0 == 0x80 { return false }
      return true
    }
  }

  /// Whether field `i` holds exactly `value`'s bytes.
  func field(_ i: Int, equals value: [UInt8]) -> Bool {
    let start = i == 0 ? 0 : ends[i - 1]
    let end = ends[i]
    guard end - start == value.count else { return false }
    return bytes.withUnsafeBufferPointer { p in
      value.withUnsafeBufferPointer { v in
        guard let a = p.baseAddress, let b = v.baseAddress else { return true }
        return memcmp(a + start, b, value.count) == 0
      }
    }
  }

  /// The line-end style seen so far.
  var lineEndStyle: LineEnd { lineEnd }

  /// Calls `body` with the bytes of field `i` of the current record.
  @inline(__always)
  func withField<R>(_ i: Int, _ body: (UnsafeBufferPointer<UInt8>) throws(SendplanError) -> R) throws(SendplanError)
    -> R
  {
    let start = i == 0 ? 0 : ends[i - 1]
    let end = ends[i]
    return try bytes.withUnsafeBufferPointer { (p) throws(SendplanError) -> R in
      try body(UnsafeBufferPointer(rebasing: p[start..<end]))
    }
  }

  /// Errors name the first physical line of the record, as planning-rules §5 asks.
  private func fail(_ code: String, _ message: String, _ fix: String) -> SendplanError {
    SendplanError(.badData, code: code, path: file, line: recordLine, message: message, fix: fix)
  }

  @inline(__always)
  private func endField() throws(SendplanError) {
    guard ends.count < maxFields else {
      throw fail(
        "csv_too_many_fields", "the record has more than \(maxFields) fields",
        "check the file's delimiters; a record may have at most \(maxFields) fields")
    }
    try reserve(1)
    ends.append(bytes.count)
  }

  /// Fails when `more` bytes would take the record past the limit; a field separator counts as one byte.
  @inline(__always)
  private func reserve(_ more: Int) throws(SendplanError) {
    guard bytes.count + ends.count + more <= maxRecordBytes else {
      throw fail(
        "record_too_large", "the record is larger than the limit of \(maxRecordBytes) bytes",
        "check the field for a missing closing quote, or raise --max-record-bytes if such records are expected")
    }
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
    bytes.removeAll(keepingCapacity: true)
    ends.removeAll(keepingCapacity: true)
    started = false
    state = .fieldStart
    line += 1
    recordLine = line
  }

  private func quoteInUnquoted() -> SendplanError {
    let start = ends.last ?? 0
    let soFar = bytes[start...]
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
          while j < n {
            let d = p[j]
            if d == 0x2C || d == 0x0A || d == 0x0D || d == 0x22 { break }
            j += 1
          }
          try reserve(j - i)
          bytes.append(contentsOf: UnsafeBufferPointer(start: p + i, count: j - i))
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
          bytes.append(contentsOf: UnsafeBufferPointer(start: p + i, count: j - i))
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
          bytes.append(0x22)
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
