/// What happened to one item key between two runs.
public enum DiffAction: String, Sendable, Comparable {
  case add, change, remove
  public static func < (a: DiffAction, b: DiffAction) -> Bool { a.rawValue < b.rawValue }
}

/// Why a change needs a compliance reviewer's eyes.
public enum DiffFlag: String, Sendable {
  /// The item moves into WouldSend (added as WouldSend, or changed to it).
  case intoWouldSend = "into_would_send"
  /// A WouldSend item whose address is suppressed in the same tenant in either run. Must never happen.
  case suppressedWouldSend = "suppressed_would_send"
}

/// The compared fields of an item on one side.
public struct ItemSide: Sendable, Equatable {
  public var status: String
  public var reason: String?
  public var templateId: String?
  public var identityId: String?
}

/// One changed field, with its value before and after.
public struct FieldChange: Sendable, Equatable {
  public var field: String
  public var before: String?
  public var after: String?
}

/// A difference for one (customer, enrollment, step, recipient) key.
public struct ItemChange: Sendable {
  public var customerId: String
  public var enrollmentId: String
  public var stepOrder: Int64
  public var recipientId: String
  public var action: DiffAction
  public var before: ItemSide?
  public var after: ItemSide?
  public var fields: [FieldChange]
  public var flags: [DiffFlag]
}

/// A change in an enrollment's `errors` list, or an enrollment planned on one side only.
public struct EnrollmentChange: Sendable {
  public var customerId: String
  public var enrollmentId: String
  /// nil when the enrollment has no dry-run line on that side.
  public var before: [String]?
  public var after: [String]?
}

/// A tenant that appears, disappears, or switches between planned and failed.
public struct TenantChange: Sendable {
  public var customerId: String
  /// `planned`, `failed`, or nil when absent.
  public var before: String?
  public var after: String?
}

/// Run metadata shown in headers and otherwise ignored.
public struct RunInfo: Sendable {
  public var path: String
  public var runId: String?
  public var asOf: String?
  public var toolVersion: String?
}

/// Totals over the (filtered) differences.
public struct DiffSummary: Sendable, Equatable {
  public var add = 0
  public var change = 0
  public var remove = 0
  /// New count minus old count per status, for the compared items.
  public var statusDelta: [String: Int] = [:]
  public var tenantChanges = 0
  public var enrollmentChanges = 0
  public var flagged = 0
  public var suppressedWouldSend = 0

  public var hasChanges: Bool {
    add + change + remove + tenantChanges + enrollmentChanges + suppressedWouldSend > 0
  }
}

/// Everything `sendplan diff` found.
public struct DiffResult: Sendable {
  public var old: RunInfo
  public var new: RunInfo
  public var tenants: [TenantChange] = []
  public var enrollments: [EnrollmentChange] = []
  /// Flagged changes first, then in key order.
  public var items: [ItemChange] = []
  public var summary = DiffSummary()
}

/// Narrows what a diff reports. Empty sets match everything.
public struct DiffFilter: Sendable {
  public var tenants: Set<String> = []
  public var enrollments: Set<String> = []
  public var statuses: Set<String> = []
  public var actions: Set<String> = []

  public init() {}

  /// Parses `key=value` terms (tenant, enrollment, status, action); nil names the bad term.
  public mutating func add(_ term: String) -> Bool {
    guard let eq = term.firstIndex(of: "=") else { return false }
    let k = String(term[..<eq])
    let v = String(term[term.index(after: eq)...])
    switch k {
    case "tenant": tenants.insert(v)
    case "enrollment": enrollments.insert(v)
    case "status": statuses.insert(v)
    case "action":
      guard ["add", "change", "remove"].contains(v) else { return false }
      actions.insert(v)
    default: return false
    }
    return true
  }

  func matches(tenant: String) -> Bool { tenants.isEmpty || tenants.contains(tenant) }

  func matches(_ c: ItemChange) -> Bool {
    matches(tenant: c.customerId)
      && (enrollments.isEmpty || enrollments.contains(c.enrollmentId))
      && (actions.isEmpty || actions.contains(c.action.rawValue))
      && (statuses.isEmpty || c.before.map { statuses.contains($0.status) } == true
        || c.after.map { statuses.contains($0.status) } == true)
  }

  func matches(_ e: EnrollmentChange) -> Bool {
    matches(tenant: e.customerId) && (enrollments.isEmpty || enrollments.contains(e.enrollmentId))
      && statuses.isEmpty && (actions.isEmpty || actions.contains("change"))
  }
}
