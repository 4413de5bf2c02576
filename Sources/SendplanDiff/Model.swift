/// What happened to one item key between two runs.
package enum DiffAction: String, Sendable, Comparable {
  case add, change, remove
  package static func < (a: DiffAction, b: DiffAction) -> Bool { a.rawValue < b.rawValue }
}

/// Why a change needs a compliance reviewer's eyes.
package enum DiffFlag: String, Sendable {
  /// The item moves into WouldSend (added as WouldSend, or changed to it).
  case intoWouldSend = "into_would_send"
  /// A WouldSend item whose address is suppressed in the same tenant in either run. Must never happen.
  case suppressedWouldSend = "suppressed_would_send"
}

/// The compared fields of an item on one side.
package struct ItemSide: Sendable, Equatable {
  package var status: String
  package var reason: String?
  package var templateId: String?
  package var identityId: String?
}

/// One changed field, with its value before and after.
package struct FieldChange: Sendable, Equatable {
  package var field: String
  package var before: String?
  package var after: String?
}

/// A difference for one (customer, enrollment, step, recipient) key.
package struct ItemChange: Sendable {
  package var customerId: String
  package var enrollmentId: String
  package var stepOrder: Int64
  package var recipientId: String
  package var action: DiffAction
  package var before: ItemSide?
  package var after: ItemSide?
  package var fields: [FieldChange]
  package var flags: [DiffFlag]
}

/// A change in an enrollment's `errors` list, or an enrollment planned on one side only.
package struct EnrollmentChange: Sendable {
  package var customerId: String
  package var enrollmentId: String
  /// nil when the enrollment has no dry-run line on that side.
  package var before: [String]?
  package var after: [String]?
}

/// A tenant that appears, disappears, or switches between planned and failed.
package struct TenantChange: Sendable {
  package var customerId: String
  /// `planned`, `failed`, or nil when absent.
  package var before: String?
  package var after: String?
}

/// Run metadata shown in headers and otherwise ignored.
package struct RunInfo: Sendable {
  package var path: String
  package var runId: String?
  package var asOf: String?
  package var toolVersion: String?
}

/// Totals over the (filtered) differences.
package struct DiffSummary: Sendable, Equatable {
  package var add = 0
  package var change = 0
  package var remove = 0
  /// New count minus old count per status, for the compared items.
  package var statusDelta: [String: Int] = [:]
  package var tenantChanges = 0
  package var enrollmentChanges = 0
  package var flagged = 0
  package var suppressedWouldSend = 0

  package var hasChanges: Bool {
    add + change + remove + tenantChanges + enrollmentChanges + suppressedWouldSend > 0
  }
}

/// Everything `sendplan diff` found.
package struct DiffResult: Sendable {
  package var old: RunInfo
  package var new: RunInfo
  package var tenants: [TenantChange] = []
  package var enrollments: [EnrollmentChange] = []
  /// Flagged changes first, then in key order.
  package var items: [ItemChange] = []
  package var summary = DiffSummary()
}

/// Narrows what a diff reports. Empty sets match everything.
package struct DiffFilter: Sendable {
  package var tenants: Set<String> = []
  package var enrollments: Set<String> = []
  package var statuses: Set<String> = []
  package var actions: Set<String> = []

  package init() {}

  /// Parses `key=value` terms (tenant, enrollment, status, action); nil names the bad term.
  package mutating func add(_ term: String) -> Bool {
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
