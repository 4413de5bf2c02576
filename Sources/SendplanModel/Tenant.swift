/// The export tables, in the order their files are read and reported.
public enum Table: String, Sendable, CaseIterable {
  case identities, templates, sequences, steps, enrollments, batches, recipients, suppressions

  /// Only `batches` may be left out of a bundle.
  public var isRequired: Bool { self != .batches }
}

/// A problem with one row, which fails that row's tenant (planning-rules §2).
public struct RowIssue: Sendable, Equatable, Comparable {
  /// The file name inside the bundle, such as `recipients.csv.gz`.
  public var file: String
  /// First physical line of the record, 1-based.
  public var line: Int
  /// Stable machine-readable code such as `bad_integer`.
  public var code: String
  /// What is wrong.
  public var message: String
  /// How to fix it.
  public var fix: String

  public init(file: String, line: Int, code: String, message: String, fix: String) {
    self.file = file
    self.line = line
    self.code = code
    self.message = message
    self.fix = fix
  }

  public static func < (a: RowIssue, b: RowIssue) -> Bool {
    if a.file != b.file { return ByteOrder.less(a.file, b.file) }
    if a.line != b.line { return a.line < b.line }
    if a.code != b.code { return a.code < b.code }
    return ByteOrder.less(a.message, b.message)
  }
}

/// Everything one tenant exported, after row validation. The planner reads only this.
public struct TenantInput: Sendable {
  public var customerID: ID
  public var identities: [IdentityRow] = []
  public var templates: [TemplateRow] = []
  public var sequences: [SequenceRow] = []
  public var steps: [StepRow] = []
  public var enrollments: [EnrollmentRow] = []
  public var batches: [BatchRow] = []
  public var recipients: [RecipientRow] = []
  public var suppressions: [SuppressionRow] = []
  /// Row-level problems found while reading; any entry fails the tenant.
  public var issues: [RowIssue] = []
  /// The bundle file name of each table, for messages about duplicate keys.
  public var fileNames: [Table: String] = [:]

  public init(customerID: ID) {
    self.customerID = customerID
  }
}

/// One table file of the bundle, as recorded in the run manifest.
public struct InputFile: Sendable, Equatable {
  public var name: String
  public var table: Table
  /// Lower-case hex SHA-256 of the file's bytes as stored (compressed for `.gz`).
  public var sha256: String
  public var bytes: Int
  /// Data records read, not counting the CSV header or blank lines.
  public var rows: Int

  public init(name: String, table: Table, sha256: String, bytes: Int, rows: Int) {
    self.name = name
    self.table = table
    self.sha256 = sha256
    self.bytes = bytes
    self.rows = rows
  }
}

/// A whole export bundle, split by tenant.
public struct ExportBundle: Sendable {
  /// Table files read, in table order.
  public var inputs: [InputFile]
  /// Other file names found in the bundle folder, sorted byte-wise.
  public var ignored: [String]
  /// Every tenant that appears in any table, sorted by customer id byte-wise.
  public var tenants: [TenantInput]

  public init(inputs: [InputFile], ignored: [String], tenants: [TenantInput]) {
    self.inputs = inputs
    self.ignored = ignored
    self.tenants = tenants
  }
}
