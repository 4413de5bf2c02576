import SendplanModel

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

  /// Base-10 ASCII digits, no sign or spaces, leading zeros allowed, must fit in a signed 64-bit integer.
  package static func integer(_ s: String) -> Int64? {
    var v: Int64 = 0
    var any = false
    for b in s.utf8 {
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
    var v: UInt64 = 0
    var n = 0
    for b in s.utf8 {
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

/// Builds typed rows from column values, collecting every row-level problem it finds.
struct RowBuilder {
  let file: String
  let line: Int
  let schema: TableSchema
  let values: [FieldValue]
  var issues: [RowIssue] = []

  private mutating func issue(_ col: Int, _ code: String, _ what: String, _ fix: String) {
    issues.append(
      RowIssue(
        file: file, line: line, code: code, message: "\(schema.columns[col]) \(what)", fix: fix))
  }

  /// The column's text, flagging a non-integer JSON number.
  private mutating func text(_ col: Int) -> String? {
    switch values[col] {
    case .absent: return nil
    case .text(let s): return s
    case .nonInteger(let s):
      issue(col, "bad_number", "holds the non-integer number \(s)", "write the value as a string or an integer")
      return nil
    }
  }

  mutating func required(_ col: Int) -> String? {
    if case .absent = values[col] {
      issue(col, "missing_field", "is missing", "fill in \(schema.columns[col]); it is required")
      return nil
    }
    return text(col)
  }

  mutating func optional(_ col: Int) -> String? { text(col) }

  mutating func requiredID(_ col: Int) -> ID? {
    guard let s = required(col) else { return nil }
    return checkID(col, s)
  }

  mutating func optionalID(_ col: Int) -> ID? {
    guard let s = optional(col) else { return nil }
    return checkID(col, s)
  }

  private mutating func checkID(_ col: Int, _ s: String) -> ID? {
    if let problem = Values.idProblem(s) {
      issue(col, "bad_id", "\(problem): \(quoted(s))", "ids must be 1 to 256 bytes of UTF-8 without control characters")
      return nil
    }
    return ID(s)
  }

  mutating func requiredEnum<E: RawRepresentable & CaseIterable>(_ col: Int, _: E.Type) -> E?
  where E.RawValue == String {
    guard let s = required(col) else { return nil }
    guard let e = E(rawValue: s) else {
      let allowed = E.allCases.map { $0.rawValue }.joined(separator: ", ")
      issue(col, "unknown_value", "has the unknown value \(quoted(s))", "use one of: \(allowed) (case-sensitive)")
      return nil
    }
    return e
  }

  /// An integer column; `defaultValue` applies when absent, and nil marks an error.
  mutating func integer(_ col: Int, min: Int64, defaultValue: Int64?) -> Int64? {
    let s = defaultValue == nil ? required(col) : optional(col)
    guard let s else { return defaultValue }
    guard let v = Values.integer(s), v >= min else {
      issue(
        col, "bad_integer", "is not a valid integer: \(quoted(s))",
        "use base-10 digits only, no sign, at least \(min), at most 9223372036854775807")
      return nil
    }
    return v
  }

  mutating func boolean(_ col: Int, defaultValue: Bool) -> Bool? {
    guard let s = optional(col) else { return defaultValue }
    guard let v = Values.boolean(s) else {
      issue(col, "bad_boolean", "is not a boolean: \(quoted(s))", "use true, false, 1 or 0")
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
