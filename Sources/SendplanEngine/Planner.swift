import SendplanModel

/// One distinct step order of a sequence, as the planner sees it.
package struct PlannedStep: Sendable, Equatable {
  package var order: Int64
  /// The step row's template id; nil only when several rows share this order.
  package var templateID: ID?
  /// Step-level validation failure (rule 3 of §3.3), if any.
  package var failure: ValidationReason?

  package init(order: Int64, templateID: ID?, failure: ValidationReason?) {
    self.order = order
    self.templateID = templateID
    self.failure = failure
  }
}

/// One (recipient, step) item. Indices point into the enrollment plan's arrays.
package struct PlannedItem: Sendable, Equatable {
  package var recipient: Int32
  package var step: Int32
  package var status: ItemStatus

  package init(recipient: Int32, step: Int32, status: ItemStatus) {
    self.recipient = recipient
    self.step = step
    self.status = status
  }
}

/// The dry run of one enrollment.
package struct EnrollmentPlan: Sendable {
  package var enrollmentID: ID
  package var status: EnrollmentStatus
  /// Enrollment-level codes in the order of §5.
  package var errors: [EnrollmentError]
  /// The resolved identity id, nil when none resolves.
  package var identityID: ID?
  /// The distinct step orders, ascending.
  package var steps: [PlannedStep]
  /// The enrollment's recipients sorted by recipient id, byte-wise.
  package var recipients: [RecipientRow]
  /// Items ordered by step order, then recipient id.
  package var items: [PlannedItem]

  package init(
    enrollmentID: ID, status: EnrollmentStatus, errors: [EnrollmentError], identityID: ID?, steps: [PlannedStep],
    recipients: [RecipientRow], items: [PlannedItem]
  ) {
    self.enrollmentID = enrollmentID
    self.status = status
    self.errors = errors
    self.identityID = identityID
    self.steps = steps
    self.recipients = recipients
    self.items = items
  }
}

/// Rows that reference something missing in their own tenant.
package struct Orphans: Sendable, Equatable {
  /// Recipients of an enrollment the tenant does not have.
  package var recipients: [RecipientRow] = []
  /// Steps of a sequence the tenant does not have.
  package var steps: [StepRow] = []

  package var count: Int { recipients.count + steps.count }

  package init(recipients: [RecipientRow] = [], steps: [StepRow] = []) {
    self.recipients = recipients
    self.steps = steps
  }
}

/// Counts by status and reason for a set of items.
///
/// Kept as fixed arrays indexed by enum position, because `add` runs once per item.
package struct PlanCounts: Sendable, Equatable {
  /// Indexed like ``ItemStatus/names``.
  var statusCounts = [Int](repeating: 0, count: 4)
  var skipCounts = [Int](repeating: 0, count: SkipReason.allCases.count)
  var failCounts = [Int](repeating: 0, count: ValidationReason.allCases.count)
  var pauseCounts = [Int](repeating: 0, count: PauseReason.allCases.count)
  package private(set) var items = 0

  package init() {}

  @inline(__always)
  mutating func add(_ s: ItemStatus) {
    items += 1
    statusCounts[s.nameIndex] += 1
    switch s {
    case .wouldSend: break
    case .skipped(let r): skipCounts[r.index] += 1
    case .failedValidation(let r): failCounts[r.index] += 1
    case .paused(let r): pauseCounts[r.index] += 1
    }
  }

  /// Items by status name; every status is present.
  package var byStatus: [String: Int] {
    Dictionary(uniqueKeysWithValues: zip(ItemStatus.names, statusCounts))
  }

  /// The count for one status name such as `WouldSend`.
  package func count(status name: String) -> Int {
    ItemStatus.names.firstIndex(of: name).map { statusCounts[$0] } ?? 0
  }

  /// Skipped items by reason code; every reason is present.
  package var skippedByReason: [String: Int] {
    Dictionary(uniqueKeysWithValues: zip(SkipReason.allCases.map(\.rawValue), skipCounts))
  }

  /// FailedValidation items by reason code; every reason is present.
  package var failedByReason: [String: Int] {
    Dictionary(uniqueKeysWithValues: zip(ValidationReason.allCases.map(\.rawValue), failCounts))
  }

  /// Paused items by reason code; every reason is present.
  package var pausedByReason: [String: Int] {
    Dictionary(uniqueKeysWithValues: zip(PauseReason.allCases.map(\.rawValue), pauseCounts))
  }

  /// Adds another set of counts to this one.
  package mutating func merge(_ o: PlanCounts) {
    items += o.items
    for i in statusCounts.indices { statusCounts[i] += o.statusCounts[i] }
    for i in skipCounts.indices { skipCounts[i] += o.skipCounts[i] }
    for i in failCounts.indices { failCounts[i] += o.failCounts[i] }
    for i in pauseCounts.indices { pauseCounts[i] += o.pauseCounts[i] }
  }

  /// Counts for the items of one enrollment.
  package static func of(_ items: [PlannedItem]) -> PlanCounts {
    var c = PlanCounts()
    for i in items { c.add(i.status) }
    return c
  }
}

/// The plan of one tenant.
package struct TenantPlan: Sendable {
  package var customerID: ID
  package var asOf: Timestamp
  /// Active and paused enrollments, sorted by enrollment id.
  package var enrollments: [EnrollmentPlan]
  /// Completed and cancelled enrollments, by status name.
  package var notPlanned: [String: Int]
  package var orphans: Orphans
  package var counts: PlanCounts

  package init(
    customerID: ID, asOf: Timestamp, enrollments: [EnrollmentPlan], notPlanned: [String: Int], orphans: Orphans,
    counts: PlanCounts
  ) {
    self.customerID = customerID
    self.asOf = asOf
    self.enrollments = enrollments
    self.notPlanned = notPlanned
    self.orphans = orphans
    self.counts = counts
  }
}

/// The planning engine: a pure function of one tenant's rows and `asOf`.
package enum Planner {
  /// Plans every enrollment of `tenant`, or returns the row problems that fail it.
  package static func plan(_ tenant: TenantInput, asOf: Timestamp) -> Result<TenantPlan, TenantFailure> {
    let index = TenantIndex(tenant, asOf: asOf)
    let issues = (tenant.issues + index.issues).sorted()
    guard issues.isEmpty else { return .failure(TenantFailure(customerID: tenant.customerID, issues: issues)) }
    return .success(plan(index: index, tenant: tenant, asOf: asOf))
  }

  static func plan(index: TenantIndex, tenant: TenantInput, asOf: Timestamp) -> TenantPlan {
    var counts = PlanCounts()
    var notPlanned: [String: Int] = [:]
    var plans: [EnrollmentPlan] = []
    plans.reserveCapacity(index.enrollments.count)
    for e in index.enrollments {
      switch e.status {
      case .completed, .cancelled:
        notPlanned[e.status.rawValue, default: 0] += 1
      case .active, .paused:
        let p = planEnrollment(e, index: index)
        for item in p.items { counts.add(item.status) }
        plans.append(p)
      }
    }
    return TenantPlan(
      customerID: tenant.customerID, asOf: asOf, enrollments: plans, notPlanned: notPlanned,
      orphans: index.orphans, counts: counts)
  }

  static func planEnrollment(_ e: EnrollmentRow, index: TenantIndex) -> EnrollmentPlan {
    let pause: PauseReason? =
      e.status == .paused
      ? .enrollmentPaused
      : (e.batchID.flatMap { index.batches[$0] } == .paused ? .batchPaused : nil)
    let sequence = index.sequences[e.sequenceID]
    let stepRows = sequence == nil ? [] : index.stepsBySequence[e.sequenceID] ?? []
    let identityID = e.identityID ?? sequence?.identityID

    var errors: [EnrollmentError] = []
    if sequence == nil {
      errors.append(.sequenceNotFound)
    } else if stepRows.isEmpty {
      errors.append(.sequenceHasNoSteps)
    }
    if pause == nil {
      if let sequence, sequence.status != .active { errors.append(.sequenceNotActive) }
      if let identityID {
        switch index.identities[identityID] {
        case nil: errors.append(.identityNotFound)
        case .verified?: break
        case .some: errors.append(.identityNotVerified)
        }
      } else {
        errors.append(.identityMissing)
      }
    }
    let enrollmentFailure = errors.lazy.compactMap { $0.validationReason }.first

    let steps = distinctSteps(stepRows, templates: index.templates)
    let recipients = index.recipientsByEnrollment[e.id] ?? []
    let skips = recipientSkips(recipients, index: index)

    var items: [PlannedItem] = []
    if !steps.isEmpty && !recipients.isEmpty {
      items.reserveCapacity(steps.count * recipients.count)
      for (si, step) in steps.enumerated() {
        for (ri, r) in recipients.enumerated() where step.order > r.lastStepSent {
          let q = Queued()
          let status: ItemStatus
          if let pause {
            status = q.pause(pause)
          } else if let enrollmentFailure {
            status = q.failValidation(enrollmentFailure)
          } else if let f = step.failure {
            status = q.failValidation(f)
          } else if let s = skips[ri] {
            status = q.planned().skip(s)
          } else {
            status = q.planned().wouldSend()
          }
          items.append(PlannedItem(recipient: Int32(ri), step: Int32(si), status: status))
        }
      }
    }
    return EnrollmentPlan(
      enrollmentID: e.id, status: e.status, errors: errors, identityID: identityID, steps: steps,
      recipients: recipients, items: items)
  }

  /// Groups step rows by order; a shared order is `invalid_step` and carries no template.
  static func distinctSteps(_ rows: [StepRow], templates: [ID: TemplateStatus]) -> [PlannedStep] {
    let sorted = rows.sorted { $0.order < $1.order }
    var out: [PlannedStep] = []
    var i = 0
    while i < sorted.count {
      var j = i + 1
      while j < sorted.count && sorted[j].order == sorted[i].order { j += 1 }
      if j - i > 1 {
        out.append(PlannedStep(order: sorted[i].order, templateID: nil, failure: .invalidStep))
      } else {
        let t = sorted[i].templateID
        let failure: ValidationReason?
        switch templates[t] {
        case nil: failure = .templateNotFound
        case .active?: failure = nil
        case .some: failure = .templateNotActive
        }
        out.append(PlannedStep(order: sorted[i].order, templateID: t, failure: failure))
      }
      i = j
    }
    return out
  }

  /// The recipient-level skip reason of each recipient (rule 4), decided once per recipient.
  static func recipientSkips(_ recipients: [RecipientRow], index: TenantIndex) -> [SkipReason?] {
    var seen = Set<String>()
    var out: [SkipReason?] = []
    out.reserveCapacity(recipients.count)
    for r in recipients {
      let n = Email.check(r.email)
      var duplicate = false
      if n.isValid {
        duplicate = !seen.insert(n.value).inserted
      }
      if !n.isValid {
        out.append(.invalidEmail)
      } else if r.optedOut {
        out.append(.optedOut)
      } else if index.suppressions.suppresses(n.value) {
        out.append(.suppressed)
      } else if duplicate {
        out.append(.duplicateRecipient)
      } else {
        out.append(nil)
      }
    }
    return out
  }
}

/// A tenant that cannot be planned because of row-level problems.
package struct TenantFailure: Error, Sendable {
  package var customerID: ID
  /// Sorted by file, then line.
  package var issues: [RowIssue]

  package init(customerID: ID, issues: [RowIssue]) {
    self.customerID = customerID
    self.issues = issues
  }
}

extension Planner {
  /// Every row-level problem of a tenant, including duplicate keys, without planning it.
  package static func issues(of tenant: TenantInput) -> [RowIssue] {
    (tenant.issues + TenantIndex(tenant, asOf: Timestamp(seconds: 0)).issues).sorted()
  }
}
