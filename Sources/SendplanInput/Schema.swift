import SendplanModel

#if canImport(Glibc)
  import Glibc
#endif

/// Column layout of one export table (planning-rules §1). `customer_id` is always column 0.
struct TableSchema {
  let table: Table
  let columns: [String]
  let required: Set<String>

  static func of(_ table: Table) -> TableSchema {
    switch table {
    case .identities:
      return TableSchema(
        table: table, columns: ["customer_id", "identity_id", "status", "from_email", "display_name"],
        required: ["customer_id", "identity_id", "status"])
    case .templates:
      return TableSchema(
        table: table, columns: ["customer_id", "template_id", "status", "name", "subject"],
        required: ["customer_id", "template_id", "status"])
    case .sequences:
      return TableSchema(
        table: table, columns: ["customer_id", "sequence_id", "status", "identity_id", "name"],
        required: ["customer_id", "sequence_id", "status"])
    case .steps:
      return TableSchema(
        table: table, columns: ["customer_id", "sequence_id", "step_order", "template_id"],
        required: ["customer_id", "sequence_id", "step_order", "template_id"])
    case .enrollments:
      return TableSchema(
        table: table, columns: ["customer_id", "enrollment_id", "sequence_id", "status", "identity_id", "batch_id"],
        required: ["customer_id", "enrollment_id", "sequence_id", "status"])
    case .batches:
      return TableSchema(
        table: table, columns: ["customer_id", "batch_id", "status"],
        required: ["customer_id", "batch_id", "status"])
    case .recipients:
      return TableSchema(
        table: table,
        columns: ["customer_id", "enrollment_id", "recipient_id", "email", "opted_out", "last_step_sent"],
        required: ["customer_id", "enrollment_id", "recipient_id", "email"])
    case .suppressions:
      return TableSchema(
        table: table, columns: ["customer_id", "type", "value", "reason", "created_at", "expires_at"],
        required: ["customer_id", "type", "value"])
    }
  }
}

/// Value rules of planning-rules §1 and §5, shared by every table.
package enum Values {
  /// Why an id is invalid, or nil when it is valid: non-empty, at most 256 UTF-8 bytes, no Cc.
  package static func idProblem(_ s: String) -> String? {
    if s.utf8.isEmpty { return "is empty" }
    if s.utf8.count > 256 { return "is longer than 256 bytes of UTF-8" }
    // Printable ASCII is the common case; check it on the contiguous bytes, not through the view.
    let printable = s.utf8.withContiguousStorageIfAvailable { p in p.allSatisfy { $0 >= 0x20 && $0 < 0x7F } }
    if printable ?? s.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return nil }
    for u in s.unicodeScalars where u.value < 0x20 || (u.value >= 0x7F && u.value <= 0x9F) {
      return "contains a control character (U+\(String(u.value, radix: 16, uppercase: true)))"
    }
    return nil
  }

  /// Whether `p` is a valid id of printable ASCII, the common case `idProblem` accepts first.
  @inline(__always)
  static func isPlainID(_ p: UnsafeBufferPointer<UInt8>) -> Bool {
    guard p.count >= 1 && p.count <= 256 else { return false }
    for b in p where b < 0x20 || b >= 0x7F { return false }
    return true
  }

  /// Base-10 ASCII digits, no sign or spaces, leading zeros allowed, must fit in a signed 64-bit integer.
  package static func integer(_ s: String) -> Int64? {
    var s = s
    return s.withUTF8 { integer(bytes: $0) }
  }

  /// ``integer(_:)`` on UTF-8 bytes.
  @inline(__always)
  static func integer(bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
    var v: Int64 = 0
    var any = false
    for b in bytes {
      guard b >= 0x30 && b <= 0x39 else { return nil }
      let (m, o1) = v.multipliedReportingOverflow(by: 10)
      let (a, o2) = m.addingReportingOverflow(Int64(b - 0x30))
      if o1 || o2 { return nil }
      v = a
      any = true
    }
    return any ? v : nil
  }

  /// `true`/`false`/`1`/`0`, case-insensitive.
  package static func boolean(_ s: String) -> Bool? {
    var s = s
    return s.withUTF8 { boolean(bytes: $0) }
  }

  /// ``boolean(_:)`` on UTF-8 bytes.
  @inline(__always)
  static func boolean(bytes: UnsafeBufferPointer<UInt8>) -> Bool? {
    var v: UInt64 = 0
    var n = 0
    for b in bytes {
      if n == 5 { return nil }
      v = v << 8 | UInt64(b >= 0x41 && b <= 0x5A ? b | 0x20 : b)
      n += 1
    }
    switch (n, v) {
    case (4, 0x7472_7565), (1, 0x31): return true
    case (5, 0x66_616C_7365), (1, 0x30): return false
    default: return nil
    }
  }
}

/// One record's column values as bytes: a CSV record's fields in the tokenizer's buffer, or a
/// JSONL line's values packed into a scratch buffer. Building a typed row from it makes a
/// `String` only for the values the row keeps as text.
struct RawRow {
  enum Kind: UInt8 {
    /// Empty field, `""`, `null` or a missing key.
    case absent
    case text
    /// A JSON number with a fraction or exponent (its literal is the slot's bytes).
    case nonInteger
  }

  struct Slot {
    var start = 0
    var end = 0
    var kind = Kind.absent
  }

  /// The record's bytes; each schema column's slot says where its value lies.
  let base: UnsafePointer<UInt8>
  let slots: UnsafePointer<Slot>

  @inline(__always) func kind(_ col: Int) -> Kind { slots[col].kind }

  @inline(__always)
  func bytes(_ col: Int) -> UnsafeBufferPointer<UInt8> {
    let s = slots[col]
    return UnsafeBufferPointer(start: base + s.start, count: s.end - s.start)
  }

  func string(_ col: Int) -> String { String(decoding: bytes(col), as: UTF8.self) }
}

/// The slots of one reader's rows, one per schema column, reused for every record.
final class RowSlots {
  let pointer: UnsafeMutablePointer<RawRow.Slot>
  let count: Int

  init(count: Int) {
    self.count = count
    pointer = .allocate(capacity: max(1, count))
    pointer.initialize(repeating: RawRow.Slot(), count: max(1, count))
  }

  deinit { pointer.deallocate() }
}

/// A growable byte buffer for packing a JSONL line's values into one ``RawRow``.
final class ByteScratch {
  private(set) var pointer: UnsafeMutablePointer<UInt8>
  private var capacity = 256
  private(set) var count = 0

  init() { pointer = .allocate(capacity: capacity) }

  deinit { pointer.deallocate() }

  func removeAll() { count = 0 }

  /// Appends the UTF-8 bytes of `s` and returns where they lie.
  func append(_ s: String) -> Range<Int> {
    var s = s
    return s.withUTF8 { p in
      if count + p.count > capacity {
        while count + p.count > capacity { capacity *= 2 }
        let b = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        b.update(from: pointer, count: count)
        pointer.deallocate()
        pointer = b
      }
      if let src = p.baseAddress { (pointer + count).update(from: src, count: p.count) }
      count += p.count
      return (count - p.count)..<count
    }
  }
}

/// Whether `p` holds exactly the bytes of `kept` (a value remembered from an earlier row).
@inline(__always)
func sameBytes(_ p: UnsafeBufferPointer<UInt8>, _ kept: [UInt8]) -> Bool {
  guard p.count == kept.count else { return false }
  return kept.withUnsafeBufferPointer { k in
    guard let a = p.baseAddress, let b = k.baseAddress else { return true }
    return ByteOrder.equal(a, b, count: p.count)
  }
}

/// A status column's values by their bytes, so a row's status needs no `String`.
protocol ByteMatchable: RawRepresentable, CaseIterable where RawValue == String {
  /// Every case with its raw value's UTF-8 bytes.
  static var utf8Cases: [(bytes: [UInt8], value: Self)] { get }
}

extension ByteMatchable {
  /// The case whose raw value has exactly these bytes.
  @inline(__always)
  static func match(_ p: UnsafeBufferPointer<UInt8>) -> Self? {
    for c in utf8Cases where c.bytes.count == p.count {
      var same = true
      for k in 0..<p.count where c.bytes[k] != p[k] {
        same = false
        break
      }
      if same { return c.value }
    }
    return nil
  }

  static func makeUTF8Cases() -> [(bytes: [UInt8], value: Self)] {
    allCases.map { (Array($0.rawValue.utf8), $0) }
  }
}

extension IdentityStatus: ByteMatchable { static let utf8Cases = makeUTF8Cases() }
extension TemplateStatus: ByteMatchable { static let utf8Cases = makeUTF8Cases() }
extension SequenceStatus: ByteMatchable { static let utf8Cases = makeUTF8Cases() }
extension EnrollmentStatus: ByteMatchable { static let utf8Cases = makeUTF8Cases() }
extension BatchStatus: ByteMatchable { static let utf8Cases = makeUTF8Cases() }
extension SuppressionType: ByteMatchable { static let utf8Cases = makeUTF8Cases() }

/// What every row of one reader shares: its file name and the table's column names, for messages.
final class RowContext: Sendable {
  let file: String
  let columns: [String]

  init(file: String, columns: [String]) {
    self.file = file
    self.columns = columns
  }
}

/// The last valid id of a column that repeats in runs, with its bytes to compare against.
struct RunCache {
  private var last: ID?
  private var bytes: [UInt8] = []

  @inline(__always)
  func id(matching p: UnsafeBufferPointer<UInt8>) -> ID? {
    guard let last, sameBytes(p, bytes) else { return nil }
    return last
  }

  mutating func keep(_ id: ID, _ p: UnsafeBufferPointer<UInt8>) {
    last = id
    bytes.removeAll(keepingCapacity: true)
    bytes.append(contentsOf: p)
  }
}

/// Builds typed rows from a record's column values, collecting every row-level problem it finds.
struct RowBuilder {
  let row: RawRow
  let line: Int
  // Not retained: the sink that owns the context outlives every builder (one per row).
  unowned(unsafe) let context: RowContext
  var issues: [RowIssue] = []

  init(row: RawRow, line: Int, context: RowContext) {
    self.row = row
    self.line = line
    self.context = context
  }

  private mutating func issue(_ col: Int, _ code: String, _ what: String, _ fix: String) {
    issues.append(
      RowIssue(
        file: context.file, line: line, code: code, message: "\(context.columns[col]) \(what)", fix: fix))
  }

  /// The column's bytes when it holds text; nil when absent, flagging a non-integer JSON number.
  @inline(__always)
  private mutating func textBytes(_ col: Int) -> UnsafeBufferPointer<UInt8>? {
    switch row.kind(col) {
    case .absent: return nil
    case .text: return row.bytes(col)
    case .nonInteger:
      issue(
        col, "bad_number", "holds the non-integer number \(row.string(col))",
        "write the value as a string or an integer")
      return nil
    }
  }

  @inline(__always)
  private mutating func requiredBytes(_ col: Int) -> UnsafeBufferPointer<UInt8>? {
    if row.kind(col) == .absent {
      issue(col, "missing_field", "is missing", "fill in \(context.columns[col]); it is required")
      return nil
    }
    return textBytes(col)
  }

  mutating func required(_ col: Int) -> String? {
    requiredBytes(col).map { String(decoding: $0, as: UTF8.self) }
  }

  /// Whether a required column holds text, flagging it when not, without keeping the text.
  @inline(__always)
  mutating func isPresent(_ col: Int) -> Bool { requiredBytes(col) != nil }

  /// ``required(_:)`` kept as bytes in `arena`, not as a `String` of its own.
  @inline(__always)
  mutating func requiredText(_ col: Int, in arena: inout TextArena) -> Text? {
    requiredBytes(col).map { arena.text($0) }
  }

  mutating func optional(_ col: Int) -> String? {
    textBytes(col).map { String(decoding: $0, as: UTF8.self) }
  }

  /// Checks an optional column the rows do not keep, without making its text.
  mutating func skip(_ col: Int) { _ = textBytes(col) }

  @inline(__always)
  mutating func requiredID(_ col: Int) -> ID? {
    guard let p = requiredBytes(col) else { return nil }
    return checkID(col, p)
  }

  /// ``requiredID(_:)`` that hands back `last` when the column repeats its bytes (an export lists
  /// an enrollment's recipients together), so a run of equal ids makes one `String`, not one each.
  @inline(__always)
  mutating func requiredID(_ col: Int, reusing last: inout RunCache) -> ID? {
    guard let p = requiredBytes(col) else { return nil }
    if let l = last.id(matching: p) { return l }
    let id = checkID(col, p)
    if let id { last.keep(id, p) }
    return id
  }

  mutating func optionalID(_ col: Int) -> ID? {
    guard let p = textBytes(col) else { return nil }
    return checkID(col, p)
  }

  @inline(__always)
  private mutating func checkID(_ col: Int, _ p: UnsafeBufferPointer<UInt8>) -> ID? {
    let s = String(decoding: p, as: UTF8.self)
    if !Values.isPlainID(p), let problem = Values.idProblem(s) {
      issue(col, "bad_id", "\(problem): \(quoted(s))", "ids must be 1 to 256 bytes of UTF-8 without control characters")
      return nil
    }
    return ID(s)
  }

  mutating func requiredEnum<E: ByteMatchable>(_ col: Int, _: E.Type) -> E? {
    guard let p = requiredBytes(col) else { return nil }
    if let e = E.match(p) { return e }
    let s = String(decoding: p, as: UTF8.self)
    // Raw values are ASCII; other text keeps String's own comparison, exactly as before.
    if !isASCII(p), let e = E(rawValue: s) { return e }
    let allowed = E.allCases.map { $0.rawValue }.joined(separator: ", ")
    issue(col, "unknown_value", "has the unknown value \(quoted(s))", "use one of: \(allowed) (case-sensitive)")
    return nil
  }

  /// An integer column; `defaultValue` applies when absent, and nil marks an error.
  @inline(__always)
  mutating func integer(_ col: Int, min: Int64, defaultValue: Int64?) -> Int64? {
    let p = defaultValue == nil ? requiredBytes(col) : textBytes(col)
    guard let p else { return defaultValue }
    guard let v = Values.integer(bytes: p), v >= min else {
      issue(
        col, "bad_integer", "is not a valid integer: \(quoted(String(decoding: p, as: UTF8.self)))",
        "use base-10 digits only, no sign, at least \(min), at most 9223372036854775807")
      return nil
    }
    return v
  }

  @inline(__always)
  mutating func boolean(_ col: Int, defaultValue: Bool) -> Bool? {
    guard let p = textBytes(col) else { return defaultValue }
    guard let v = Values.boolean(bytes: p) else {
      issue(
        col, "bad_boolean", "is not a boolean: \(quoted(String(decoding: p, as: UTF8.self)))", "use true, false, 1 or 0"
      )
      return nil
    }
    return v
  }

  /// Returns `.some(nil)` when absent, `nil` on error.
  mutating func timestamp(_ col: Int) -> Timestamp?? {
    guard let s = optional(col) else { return .some(nil) }
    guard let t = Timestamp.parse(s) else {
      issue(
        col, "bad_timestamp", "is not an RFC 3339 timestamp: \(quoted(s))",
        "write it like 2026-11-27T02:00:00Z, with a T and an offset")
      return nil
    }
    return .some(t)
  }
}
