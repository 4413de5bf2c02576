/// The export tables, in the order their files are read and reported.
package enum Table: String, Sendable, CaseIterable {
  case identities, templates, sequences, steps, enrollments, batches, recipients, suppressions

  /// Only `batches` may be left out of a bundle.
  package var isRequired: Bool { self != .batches }
}

/// A problem with one row, which fails that row's tenant (planning-rules §2).
package struct RowIssue: Sendable, Equatable, Comparable {
  /// The file name inside the bundle, such as `recipients.csv.gz`.
  package var file: String
  /// First physical line of the record, 1-based.
  package var line: Int
  /// Stable machine-readable code such as `bad_integer`.
  package var code: String
  /// What is wrong.
  package var message: String
  /// How to fix it.
  package var fix: String

  package init(file: String, line: Int, code: String, message: String, fix: String) {
    self.file = file
    self.line = line
    self.code = code
    self.message = message
    self.fix = fix
  }

  package static func < (a: RowIssue, b: RowIssue) -> Bool {
    if a.file != b.file { return ByteOrder.less(a.file, b.file) }
    if a.line != b.line { return a.line < b.line }
    if a.code != b.code { return a.code < b.code }
    return ByteOrder.less(a.message, b.message)
  }
}

/// Everything one tenant exported, after row validation. The planner reads only this.
package struct TenantInput: Sendable {
  package var customerID: ID
  package var identities: [IdentityRow] = []
  package var templates: [TemplateRow] = []
  package var sequences: [SequenceRow] = []
  package var steps: [StepRow] = []
  package var enrollments: [EnrollmentRow] = []
  package var batches: [BatchRow] = []
  package var recipients: [RecipientRow] = []
  package var suppressions: [SuppressionRow] = []
  /// Row-level problems found while reading; any entry fails the tenant.
  package var issues: [RowIssue] = []
  /// The bundle file names of each table: one, or the part files of a table folder in order.
  /// A row's ``RowLine`` says which one holds it.
  package var fileNames: [Table: [String]] = [:]

  /// The file and 1-based line of a row of `table` whose line is `line` (a ``RowLine``).
  package func location(_ table: Table, _ line: Int) -> (file: String, line: Int) {
    let names = fileNames[table] ?? []
    let part = RowLine.part(line)
    return (part < names.count ? names[part] : table.rawValue, RowLine.line(line))
  }

  package init(customerID: ID) {
    self.customerID = customerID
  }
}

/// One table file of the bundle, as recorded in the run manifest.
package struct InputFile: Sendable, Equatable {
  package var name: String
  package var table: Table
  /// Lower-case hex SHA-256 of the file's bytes as stored (compressed for `.gz`); empty when the
  /// reader was asked for no digests (`validate`).
  package var sha256: String
  package var bytes: Int
  /// Data records read, not counting the CSV header or blank lines.
  package var rows: Int

  package init(name: String, table: Table, sha256: String, bytes: Int, rows: Int) {
    self.name = name
    self.table = table
    self.sha256 = sha256
    self.bytes = bytes
    self.rows = rows
  }
}

/// A whole export bundle, split by tenant.
package struct ExportBundle: Sendable {
  /// Table files read, in table order.
  package var inputs: [InputFile]
  /// Other file names found in the bundle folder, sorted byte-wise.
  package var ignored: [String]
  /// Every tenant that appears in any table, sorted by customer id byte-wise.
  package var tenants: [TenantInput]
  /// Tenants whose rows the reader's filter dropped (another shard's).
  package var tenantsDropped = 0

  package init(inputs: [InputFile], ignored: [String], tenants: [TenantInput]) {
    self.inputs = inputs
    self.ignored = ignored
    self.tenants = tenants
  }
}
