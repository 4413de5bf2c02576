import Dispatch
import Foundation
import SendplanDiagnostics
import SendplanModel
import Synchronization

/// What reading one table file produced.
struct TableResult {
  var info: InputFile
  var tenants: [ID: TenantInput]
  /// Customer ids whose rows were dropped by the reader's filter.
  var dropped: Set<ID>
  /// A CSV file's header, so the parts of one table can be checked against each other.
  var header: [String]?
  /// How the file was cut into pieces (tests check that the guessed cuts are used and checked).
  var cuts = Cuts.none

  enum Cuts { case none, guessed, scanned }
}

/// Reads one table file (CSV or JSONL, optionally gzip) into per-tenant rows.
struct TableReader {
  let table: Table
  let path: String
  let name: String
  /// The file's index among its table's part files (0 for a table in one file).
  let part: Int
  /// Keeps only the rows of tenants it accepts; nil keeps every row.
  let filter: TenantFilter?
  /// Plain CSV files of at least twice this size are parsed in pieces on several cores.
  var pieceBytes = CSVSplit.minPieceBytes
  /// The cores to plan pieces for; nil for this machine's (tests ask for many tiny pieces).
  var cores: Int?
  /// How much of one record the reader may hold.
  var limits = ReadLimits.default
  /// Whether to compute the file's SHA-256; without it ``InputFile/sha256`` is empty.
  var digests = true
  /// Whether recipients' e-mail addresses are kept; without, each is checked and left empty.
  var emails = true

  private var schema: TableSchema { TableSchema.of(table) }
  private var coreCount: Int { cores ?? ProcessInfo.processInfo.activeProcessorCount }
  private var isJSONL: Bool { name.hasSuffix(".jsonl") || name.hasSuffix(".jsonl.gz") }
  private var isGzip: Bool { name.hasSuffix(".gz") }

  func read() throws(SendplanError) -> TableResult {
    if !isJSONL, !isGzip,
      let split = try CSVSplit.guess(
        path: path, name: name, cores: coreCount, minPiece: pieceBytes)
    {
      return try readPieces(split)
    }
    return try readWhole()
  }

  /// Reads the file in one piece.
  private func readWhole() throws(SendplanError) -> TableResult {
    let source = try FileSource(path: path, name: name)
    source.hashes = digests
    let stream: ByteStream = isGzip ? try GzipStream(source: source) : source
    var sink = RowSink(table: table, file: name, part: part, filter: filter, emails: emails)
    var header: [String]?
    if isJSONL {
      try readJSONL(stream, sink: &sink)
    } else {
      header = try readCSV(stream, sink: &sink).header
    }
    // Drain what the decoder did not need so the digest covers the whole file.
    try source.readToEnd()
    let info = InputFile(
      name: name, table: table, sha256: source.digestHex(), bytes: source.byteCount, rows: sink.rows)
    return TableResult(info: info, tenants: sink.finish(), dropped: sink.dropped, header: header)
  }

  /// Feeds decoded chunks to `body`, skipping a BOM at the very start.
  private func chunks(
    _ stream: ByteStream, skippingBOM: Bool = true, _ body: (UnsafeBufferPointer<UInt8>) throws(SendplanError) -> Void
  ) throws(SendplanError) -> Int {
    let size = 1 << 18
    let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
    defer { buf.deallocate() }
    var total = 0
    var first = skippingBOM
    while true {
      // Fill at least 3 bytes at the start so a BOM is never split.
      var n = try stream.read(into: buf)
      if n == 0 { break }
      while first && n < 3 {
        let m = try stream.read(into: UnsafeMutableRawBufferPointer(rebasing: buf[n...]))
        if m == 0 { break }
        n += m
      }
      total += n
      var p = UnsafeBufferPointer(start: buf.baseAddress?.assumingMemoryBound(to: UInt8.self), count: n)
      if first {
        first = false
        if n >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF {
          p = UnsafeBufferPointer(rebasing: p[3...])
        }
      }
      try body(p)
    }
    return total
  }

  private func structural(_ code: String, _ line: Int?, _ message: String, _ fix: String) -> SendplanError {
    SendplanError(.badData, code: code, path: name, line: line, message: message, fix: fix)
  }

  /// Parses the pieces of a large plain CSV file on all cores while a last job hashes the whole
  /// file; rows join in piece order, so the result is the one-piece read's, and so is the first error.
  ///
  /// A cut is right when the piece before it, read from a right cut, ends at a record boundary.
  /// When a guessed cut is wrong (inside a quoted field), the file is read again, cut by the quote
  /// scan. A guessed piece's lines count from 1 and move by the line feeds of the pieces before it.
  private func readPieces(_ split: CSVSplit) throws(SendplanError) -> TableResult {
    let n = split.pieces.count
    let results = Mutex<[Result<(RowSink, CSVEnd), SendplanError>?]>(Array(repeating: nil, count: n))
    let digest = Mutex<Result<(String, Int), SendplanError>?>(nil)
    @Sendable func readPiece(_ k: Int) {
      do throws(SendplanError) {
        if k == n {
          let source = try FileSource(path: path, name: name)
          try source.readToEnd()
          let d = (source.digestHex(), source.byteCount)
          digest.withLock { $0 = .success(d) }
          return
        }
        let piece = split.pieces[k]
        let source = try FileSource(path: path, name: name, range: piece.range)
        var sink = RowSink(table: table, file: name, part: part, filter: filter, emails: emails)
        let start =
          k == 0
          ? CSVStart() : CSVStart(firstLine: piece.firstLine, header: split.header, lineEnd: split.lineEnd)
        let end = try readCSV(source, sink: &sink, start: start, last: k == n - 1)
        results.withLock { $0[k] = .success((sink, end)) }
      } catch {
        if k == n { digest.withLock { $0 = .failure(error) } } else { results.withLock { $0[k] = .failure(error) } }
      }
    }
    // The digest first: it is one long sequential job, and pieces fill in around it.
    let jobs = (digests ? [n] : []) + Array(0..<n)
    onAllCores(jobs.count) { j in readPiece(jobs[j]) }
    // Taken out of the lock, so that each sink's rows have one owner and move their lines in place.
    var all = results.withLock { r in
      defer { r = [] }
      return r
    }
    var sinks: [(sink: RowSink, shift: Int)] = []
    var header: [String] = []
    var feeds = 0
    var endedAtRecord = true
    for k in all.indices {
      let r = all[k]
      all[k] = nil
      // The cut before piece k is right when piece k - 1, read from a right cut, ended at a record boundary.
      if !endedAtRecord {
        // The rows read so far are dropped before the file is read again, so memory does not double.
        all = []
        sinks = []
        guard split.guessed else { return try readWhole() }
        let plan = try CSVSplit.plan(path: path, name: name, cores: coreCount, minPiece: pieceBytes)
        guard let plan else { return try readWhole() }
        return try readPieces(plan)
      }
      let shift = split.guessed ? feeds : 0
      switch r {
      case .success(let (sink, end))?:
        sinks.append((sink, shift))
        if header.isEmpty { header = end.header }
        feeds += end.lineFeeds
        endedAtRecord = end.atRecordStart
      case .failure(var e)?:
        if shift > 0, let l = e.location?.line { e.location?.line = l + shift }
        throw e
      case nil: throw structural("read_failed", nil, "a piece of the file was not read", "report this as a bug")
      }
    }
    let hashed = digests ? digest.withLock({ $0 }) : .success(("", split.pieces.last?.range.upperBound ?? 0))
    guard case .success(let (sha, bytes))? = hashed else {
      if case .failure(let e)? = digest.withLock({ $0 }) { throw e }
      throw structural("read_failed", nil, "the file was not hashed", "report this as a bug")
    }
    var dropped = Set<ID>()
    var rows = 0
    for s in sinks {
      rows += s.sink.rows
      dropped.formUnion(s.sink.dropped)
    }
    // Each sink's rows move to their lines on every core; a sink is taken out of the lock while it
    // is changed, so its rows have one owner and change in place.
    let m = sinks.count
    let pending = Mutex<[(sink: RowSink, shift: Int)?]>(sinks.map { $0 })
    sinks = []
    let found = Mutex<[[ID: TenantInput]]>(Array(repeating: [:], count: m))
    onAllCores(m) { k in
      guard
        var s = pending.withLock({ p in
          defer { p[k] = nil }
          return p[k]
        })
      else { return }
      var tenants = s.sink.finish()
      if s.shift > 0 {
        for cid in Array(tenants.keys) { tenants[cid]?.shiftLines(by: s.shift) }
      }
      found.withLock { $0[k] = tenants }
    }
    var tenants: [ID: TenantInput] = [:]
    for part in found.withLock({ f in
      defer { f = [] }
      return f
    }) {
      for (cid, t) in part { tenants[cid, default: TenantInput(customerID: cid)].absorb(t) }
    }
    let info = InputFile(name: name, table: table, sha256: sha, bytes: bytes, rows: rows)
    return TableResult(
      info: info, tenants: tenants, dropped: dropped, header: header, cuts: split.guessed ? .guessed : .scanned)
  }

  /// Runs `body` for 0..<count on this thread and on one pool thread per core, each taking the
  /// next index. Not `concurrentPerform`: nested inside the bundle's own, it would run serially.
  /// This thread takes jobs too: the pool does not always start a thread for one that waits, and
  /// the pieces then ran one after another on a single pool thread.
  private func onAllCores(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let taken = Mutex(0)
    @Sendable func work() {
      while true {
        let j = taken.withLock { t in
          defer { t += 1 }
          return t
        }
        guard j < count else { return }
        body(j)
      }
    }
    let group = DispatchGroup()
    for _ in 0..<min(count, max(1, coreCount)) {
      DispatchQueue.global().async(group: group) { work() }
    }
    work()
    group.wait()
  }

  /// Where a CSV read starts: the file's start, or a piece after its header.
  struct CSVStart {
    var firstLine = 1
    /// The header, for a piece that does not hold it.
    var header: [String]?
    var lineEnd = CSVTokenizer.LineEnd.unknown
    var atFileStart: Bool { header == nil }
  }

  /// How a CSV read ended.
  struct CSVEnd {
    var header: [String]
    /// Whether the bytes read end at a record boundary; always true for a read to the end of the file.
    var atRecordStart: Bool
    /// The line feeds read, quoted ones included.
    var lineFeeds: Int
  }

  /// Reads a CSV file (or a piece of one). A piece that is not `last` may end inside a record (a
  /// guessed cut that is wrong): that is reported, not an error.
  private func readCSV(
    _ stream: ByteStream, sink: inout RowSink, start: CSVStart = CSVStart(), last: Bool = true
  ) throws(SendplanError) -> CSVEnd {
    let tok = CSVTokenizer(file: name, line: start.firstLine, lineEnd: start.lineEnd, limits: limits)
    let records = CSVRecords(file: name, schema: schema, header: start.header, sink: sink)
    defer { sink = records.sink }
    let total = try chunks(stream, skippingBOM: start.atFileStart) { chunk throws(SendplanError) in
      try tok.feed(chunk) { () throws(SendplanError) in try records.take(tok) }
    }
    if total == 0 && start.atFileStart {
      throw structural(
        "empty_file", nil, "the file is empty (0 bytes)", "export the table with at least its header row")
    }
    if last { try tok.finish { () throws(SendplanError) in try records.take(tok) } }
    guard let header = records.header else {
      throw structural("missing_header", 1, "the file has no header row", "add a header row naming the columns")
    }
    return CSVEnd(header: header, atRecordStart: last || tok.atRecordStart, lineFeeds: tok.lineFeeds)
  }

  private func readJSONL(_ stream: ByteStream, sink: inout RowSink) throws(SendplanError) {
    var parser = JSONLineParser(columns: schema.columns)
    var values = [FieldValue](repeating: .absent, count: schema.columns.count)
    let slots = RowSlots(count: schema.columns.count)
    let scratch = ByteScratch()
    var lineBuf: [UInt8] = []
    lineBuf.reserveCapacity(4096)
    var lineNo = 1

    func onLine() throws(SendplanError) {
      defer {
        lineNo += 1
        lineBuf.removeAll(keepingCapacity: true)
      }
      let isRecord = try lineBuf.withUnsafeBufferPointer { (p) throws(SendplanError) -> Bool in
        guard isValidUTF8(p) else {
          throw structural("not_utf8", lineNo, "the line is not valid UTF-8", "re-export the file as UTF-8")
        }
        if p.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return false }
        do throws(JSONLineParser.Failure) {
          try parser.parse(p, into: &values)
        } catch {
          switch error {
          case .invalid(let why):
            throw structural("jsonl_invalid", lineNo, "invalid JSON: \(why)", "write one valid JSON object per line")
          case .notObject:
            throw structural(
              "jsonl_not_object", lineNo, "the line is JSON but not an object", "write one JSON object per line")
          case .nested(let column):
            throw structural(
              "jsonl_nested_value", lineNo, "the column \(column) holds an object or array",
              "use a string, number, boolean or null for \(column)")
          case .duplicate(let column):
            throw structural(
              "jsonl_duplicate_key", lineNo, "the key \(column) appears twice in the object",
              "keep only one \(column) key per object")
          }
        }
        return true
      }
      if isRecord {
        scratch.removeAll()
        let slot = slots.pointer
        for k in 0..<slots.count {
          switch values[k] {
          case .absent: slot[k] = RawRow.Slot()
          case .text(let v):
            let r = scratch.append(v)
            slot[k] = RawRow.Slot(start: r.lowerBound, end: r.upperBound, kind: .text)
          case .nonInteger(let v):
            let r = scratch.append(v)
            slot[k] = RawRow.Slot(start: r.lowerBound, end: r.upperBound, kind: .nonInteger)
          }
        }
        try sink.add(line: lineNo, row: RawRow(base: scratch.pointer, slots: slot))
      }
    }

    let total = try chunks(stream) { chunk throws(SendplanError) in
      guard let base = chunk.baseAddress else { return }
      var i = 0
      let n = chunk.count
      while i < n {
        var j = i
        while j < n && base[j] != 0x0A { j += 1 }
        // Fail before holding more than the limit: a huge line stops the read (and any inflating) here.
        guard lineBuf.count + (j - i) <= limits.maxRecordBytes else {
          throw structural(
            "record_too_large", lineNo, "the line is longer than the limit of \(limits.maxRecordBytes) bytes",
            "check the line for a missing line feed, or raise --max-record-bytes if such lines are expected")
        }
        lineBuf.append(contentsOf: UnsafeBufferPointer(start: base + i, count: j - i))
        if j < n {
          try onLine()
          j += 1
        }
        i = j
      }
    }
    if !lineBuf.isEmpty { try onLine() }
    if total == 0 {
      // An empty JSONL file is simply a table with no rows.
      return
    }
  }
}

/// Validates rows and sorts them into per-tenant inputs.
struct RowSink {
  let table: Table
  let file: String
  let schema: TableSchema
  private let context: RowContext
  var tenants: [ID: TenantInput] = [:]
  var rows = 0
  let filter: TenantFilter?
  /// Customer ids whose rows the filter dropped.
  var dropped = Set<ID>()
  private var current = TenantInput(customerID: ID(""))
  private var hasCurrent = false
  /// The current tenant's customer id as bytes: a row whose id has them is that tenant's, and its
  /// id is known to be valid and kept, so most rows neither make nor check a customer id.
  private var currentBytes: [UInt8] = []
  /// The last valid id of a column that repeats in runs, reused while its bytes repeat.
  private var lastRunID = RunCache()
  /// Where the rows' long text fields (e-mail addresses) are kept.
  private var arena = TextArena()
  /// The filter's answer for the last customer id asked about, by its bytes.
  private(set) var lastDecision: (bytes: [UInt8], keep: Bool)?

  /// The index of the file among its table's part files (0 for a table in one file).
  let part: Int

  /// Whether recipients' e-mail addresses are kept (``TableReader/emails``).
  let emails: Bool

  init(table: Table, file: String, part: Int = 0, filter: TenantFilter? = nil, emails: Bool = true) {
    self.emails = emails
    self.table = table
    self.file = file
    self.part = part
    self.schema = TableSchema.of(table)
    self.context = RowContext(file: file, columns: schema.columns)
    self.filter = filter
  }

  /// Whether the filter keeps this customer's rows; asked once per run of equal ids, and the
  /// filter itself remembers each id's answer. A malformed id is kept, so it is reported.
  mutating func keeps(_ cid: String) -> Bool {
    guard let filter else { return true }
    if let last = lastDecision, last.bytes.elementsEqual(cid.utf8) { return last.keep }
    let keep = Values.idProblem(cid) != nil || filter.keeps(ID(cid))
    if !keep { dropped.insert(ID(cid)) }
    lastDecision = (Array(cid.utf8), keep)
    return keep
  }

  @inline(__always)
  private func isCurrent(_ p: UnsafeBufferPointer<UInt8>) -> Bool {
    hasCurrent && sameBytes(p, currentBytes)
  }

  /// `kept`: the reader already asked the filter about this row's customer id.
  mutating func add(line: Int, row: RawRow, kept: Bool = false) throws(SendplanError) {
    rows += 1
    switch row.kind(0) {
    case .absent:
      throw SendplanError(
        .badData, code: "missing_customer_id", path: file, line: line,
        message: "customer_id is missing, so the row cannot be attributed to a tenant",
        fix: "fill in customer_id on every row")
    case .nonInteger:
      throw SendplanError(
        .badData, code: "bad_customer_id", path: file, line: line,
        message: "customer_id holds the non-integer number \(row.string(0))", fix: "write customer_id as a string")
    case .text:
      if !isCurrent(row.bytes(0)) {
        let s = row.string(0)
        if let problem = Values.idProblem(s) {
          throw SendplanError(
            .badData, code: "bad_customer_id", path: file, line: line,
            message: "customer_id \(problem): \(quoted(s))",
            fix: "customer ids must be 1 to 256 bytes of UTF-8 without control characters")
        }
        guard kept || keeps(s) else { return }
        switchTo(ID(s))
      }
    }
    let at = RowLine.encode(part: part, line: line)
    var b = RowBuilder(row: row, line: line, context: context)
    defer { if !b.issues.isEmpty { current.issues.append(contentsOf: b.issues) } }
    switch table {
    case .identities:
      let id = b.requiredID(1)
      let st = b.requiredEnum(2, IdentityStatus.self)
      b.skip(3)
      b.skip(4)
      if b.issues.isEmpty, let id, let st { current.identities.append(IdentityRow(line: at, id: id, status: st)) }
    case .templates:
      let id = b.requiredID(1)
      let st = b.requiredEnum(2, TemplateStatus.self)
      b.skip(3)
      b.skip(4)
      if b.issues.isEmpty, let id, let st { current.templates.append(TemplateRow(line: at, id: id, status: st)) }
    case .sequences:
      let id = b.requiredID(1)
      let st = b.requiredEnum(2, SequenceStatus.self)
      let ident = b.optionalID(3)
      b.skip(4)
      if b.issues.isEmpty, let id, let st {
        current.sequences.append(SequenceRow(line: at, id: id, status: st, identityID: ident))
      }
    case .steps:
      let seq = b.requiredID(1, reusing: &lastRunID)
      let order = b.integer(2, min: 1, defaultValue: nil)
      let tpl = b.requiredID(3)
      if b.issues.isEmpty, let seq, let order, let tpl {
        current.steps.append(StepRow(line: at, sequenceID: seq, order: order, templateID: tpl))
      }
    case .enrollments:
      let id = b.requiredID(1)
      let seq = b.requiredID(2, reusing: &lastRunID)
      let st = b.requiredEnum(3, EnrollmentStatus.self)
      let ident = b.optionalID(4)
      let batch = b.optionalID(5)
      if b.issues.isEmpty, let id, let seq, let st {
        current.enrollments.append(
          EnrollmentRow(line: at, id: id, sequenceID: seq, status: st, identityID: ident, batchID: batch))
      }
    case .batches:
      let id = b.requiredID(1)
      let st = b.requiredEnum(2, BatchStatus.self)
      if b.issues.isEmpty, let id, let st { current.batches.append(BatchRow(line: at, id: id, status: st)) }
    case .recipients:
      let enr = b.requiredID(1, reusing: &lastRunID)
      let id = b.requiredID(2)
      let email = emails ? b.requiredText(3, in: &arena) : b.isPresent(3) ? Text.empty : nil
      let opted = b.boolean(4, defaultValue: false)
      let last = b.integer(5, min: 0, defaultValue: 0)
      if b.issues.isEmpty, let enr, let id, let email, let opted, let last {
        current.recipients.append(
          RecipientRow(line: at, enrollmentID: enr, id: id, email: email, optedOut: opted, lastStepSent: last))
      }
    case .suppressions:
      let type = b.requiredEnum(1, SuppressionType.self)
      let value = b.required(2)
      let reason = b.optional(3)
      let created = b.timestamp(4)
      let expires = b.timestamp(5)
      if b.issues.isEmpty, let type, let value, let created, let expires {
        current.suppressions.append(
          SuppressionRow(line: at, type: type, value: value, expiresAt: expires, reason: reason, createdAt: created))
      }
    }
  }

  /// Rows usually arrive grouped by tenant, so the current tenant stays out of the dictionary.
  private mutating func switchTo(_ cid: ID) {
    if hasCurrent && current.customerID == cid { return }
    if hasCurrent { tenants[current.customerID] = current }
    if let existing = tenants.removeValue(forKey: cid) {
      current = existing
    } else {
      current = TenantInput(customerID: cid)
    }
    hasCurrent = true
    currentBytes = Array(cid.string.utf8)
  }

  /// Hands over every tenant seen, including the current one, and keeps none: the caller is then
  /// the rows' only owner and can change them in place.
  mutating func finish() -> [ID: TenantInput] {
    if hasCurrent {
      tenants[current.customerID] = current
      hasCurrent = false
      currentBytes = []
      current = TenantInput(customerID: ID(""))
    }
    defer { tenants = [:] }
    return tenants
  }
}

/// One CSV read's records: the header, then each data record into the sink.
///
/// A class, not state captured by the record callback: a captured `var` is boxed and checked for
/// exclusive access at run time on every record, which cost a twentieth of all parse time.
private final class CSVRecords {
  let file: String
  let schema: TableSchema
  @exclusivity(unchecked) var header: [String]?
  /// Schema column -> header position, or -1.
  @exclusivity(unchecked) var columnIndex: [Int] = []
  @exclusivity(unchecked) var headerCount = 0
  @exclusivity(unchecked) var sink: RowSink
  let slots: RowSlots

  init(file: String, schema: TableSchema, header: [String]?, sink: RowSink) {
    self.file = file
    self.schema = schema
    self.sink = sink
    slots = RowSlots(count: schema.columns.count)
    if let header { setHeader(header) }
  }

  private func setHeader(_ names: [String]) {
    // Header names are compared byte-wise, like every other name.
    columnIndex = schema.columns.map { c in names.firstIndex { ByteOrder.equal($0, c) } ?? -1 }
    headerCount = names.count
    header = names
  }

  private func structural(_ code: String, _ line: Int?, _ message: String, _ fix: String) -> SendplanError {
    SendplanError(.badData, code: code, path: file, line: line, message: message, fix: fix)
  }

  /// Takes the tokenizer's current record.
  func take(_ tok: CSVTokenizer) throws(SendplanError) {
    let count = tok.fieldCount
    let line = tok.recordLine
    guard tok.recordIsValidUTF8() else {
      throw structural("not_utf8", line, "the record is not valid UTF-8", "re-export the file as UTF-8")
    }
    guard header != nil else {
      var names: [String] = []
      for f in 0..<count {
        names.append(try tok.withField(f) { p throws(SendplanError) in String(decoding: p, as: UTF8.self) })
      }
      var seen = Set<String>()
      for h in names where !seen.insert(h).inserted {
        throw structural(
          "csv_duplicate_header", line, "the header names the column \(quoted(h)) twice",
          "remove or rename the duplicate column")
      }
      let index = schema.columns.map { c in names.firstIndex { ByteOrder.equal($0, c) } ?? -1 }
      for (k, c) in schema.columns.enumerated() where index[k] < 0 && schema.required.contains(c) {
        throw structural(
          "missing_column", line, "the required column \(c) is missing from the header",
          "add a \(c) column (names are case-sensitive)")
      }
      setHeader(names)
      return
    }
    guard count == headerCount else {
      throw structural(
        "csv_field_count", line, "the record has \(count) fields but the header has \(headerCount)",
        "make every record have exactly one field per header column (a trailing comma adds a field)")
    }
    // Rows of tenants the filter drops are counted, not converted; runs of one id are decided once.
    if sink.filter != nil, columnIndex[0] >= 0 {
      let c = columnIndex[0]
      if let last = sink.lastDecision, tok.field(c, equals: last.bytes) {
        if !last.keep {
          sink.rows += 1
          return
        }
      } else {
        let cid = try tok.withField(c) { p throws(SendplanError) in String(decoding: p, as: UTF8.self) }
        if !sink.keeps(cid) {
          sink.rows += 1
          return
        }
      }
    }
    // The row builder reads the fields where the tokenizer holds them; empty fields are absent.
    let record = tok.record
    let slot = slots.pointer
    columnIndex.withUnsafeBufferPointer { index in
      for k in 0..<slots.count {
        let h = index[k]
        if h < 0 {
          slot[k].kind = .absent
          continue
        }
        let start = h == 0 ? 0 : record.ends[h - 1] + record.gap
        let end = record.ends[h]
        slot[k] = RawRow.Slot(start: start, end: end, kind: end > start ? .text : .absent)
      }
    }
    try sink.add(
      line: line, row: RawRow(base: record.bytes, slots: slot), kept: sink.filter != nil && columnIndex[0] >= 0)
  }
}
