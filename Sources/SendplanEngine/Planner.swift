import Dispatch
import SendplanModel
import Synchronization

/// One distinct step order of a sequence, as the planner sees it.
package struct PlannedStep: Sendable, Equatable {
  package var order: Int64
  /// The step row's template id; nil only when several rows share this order.
  package var templateID: ID?
  /// Step-level validation failure (rule 3 of §3.3), if any.
  package var failure: ValidationReason?
  /// The rows behind `failure`.
  package var evidence: Evidence?

  package init(order: Int64, templateID: ID?, failure: ValidationReason?, evidence: Evidence? = nil) {
    self.order = order
    self.templateID = templateID
    self.failure = failure
    self.evidence = evidence
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

/// The evidence of one recipient of an enrollment plan.
package struct RecipientEvidence: Sendable, Equatable {
  /// Index into the plan's `recipients`.
  package var recipient: Int32
  package var evidence: Evidence

  package init(recipient: Int32, evidence: Evidence) {
    self.recipient = recipient
    self.evidence = evidence
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
  /// The rows behind each of `errors`, in the same order.
  package var errorEvidence: [Evidence?]
  /// The row that pauses every item (enrollment or batch), when the enrollment is paused.
  package var pauseEvidence: Evidence?
  /// The rows behind the enrollment-level failure that every item takes, if any.
  package var failureEvidence: Evidence?
  /// Recipient-level evidence (skip reasons; expired rules for WouldSend), sorted by recipient index;
  /// recipients without any are left out. Read it through ``evidence(for:)``.
  package var recipientEvidence: [RecipientEvidence]

  package init(
    enrollmentID: ID, status: EnrollmentStatus, errors: [EnrollmentError], identityID: ID?, steps: [PlannedStep],
    recipients: [RecipientRow], items: [PlannedItem], errorEvidence: [Evidence?] = [], pauseEvidence: Evidence? = nil,
    failureEvidence: Evidence? = nil, recipientEvidence: [RecipientEvidence] = []
  ) {
    self.enrollmentID = enrollmentID
    self.status = status
    self.errors = errors
    self.identityID = identityID
    self.steps = steps
    self.recipients = recipients
    self.items = items
    self.errorEvidence = errorEvidence
    self.pauseEvidence = pauseEvidence
    self.failureEvidence = failureEvidence
    self.recipientEvidence = recipientEvidence
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
  /// The tenant's suppression rows, as read; ``SuppressionMatch/rule`` indexes them.
  package var suppressions: [SuppressionRow]
  /// The tenant's file names per table, for ``location(_:)``.
  package var fileNames: [Table: [String]]

  package init(
    customerID: ID, asOf: Timestamp, enrollments: [EnrollmentPlan], notPlanned: [String: Int], orphans: Orphans,
    counts: PlanCounts, suppressions: [SuppressionRow] = [], fileNames: [Table: [String]] = [:]
  ) {
    self.customerID = customerID
    self.asOf = asOf
    self.enrollments = enrollments
    self.notPlanned = notPlanned
    self.orphans = orphans
    self.counts = counts
    self.suppressions = suppressions
    self.fileNames = fileNames
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
    var scratch = Scratch()
    for e in index.enrollments {
      switch e.status {
      case .completed, .cancelled:
        notPlanned[e.status.rawValue, default: 0] += 1
      case .active, .paused:
        let p = planEnrollment(e, index: index, scratch: &scratch)
        for item in p.items { counts.add(item.status) }
        plans.append(p)
      }
    }
    return TenantPlan(
      customerID: tenant.customerID, asOf: asOf, enrollments: plans, notPlanned: notPlanned,
      orphans: index.orphans, counts: counts, suppressions: tenant.suppressions, fileNames: tenant.fileNames)
  }

  /// Per-tenant working storage of the planner, reused from one enrollment to the next.
  struct Scratch {
    /// The first recipient with each valid normalised address, within one enrollment.
    var seen = ByteTable<Int32>()
    /// One recipient's normalised address.
    var normalized: [UInt8] = []
    /// ``distinctSteps(_:templates:)`` per sequence: the same for every enrollment of it.
    var steps: [ID: [PlannedStep]] = [:]
  }

  static func planEnrollment(_ e: EnrollmentRow, index: TenantIndex) -> EnrollmentPlan {
    var scratch = Scratch()
    return planEnrollment(e, index: index, scratch: &scratch)
  }

  static func planEnrollment(_ e: EnrollmentRow, index: TenantIndex, scratch: inout Scratch) -> EnrollmentPlan {
    let enrollmentRef = RowRef(.enrollments, e.line)
    let batch = e.batchID.flatMap { index.batches[$0] }
    let pause: PauseReason? =
      e.status == .paused ? .enrollmentPaused : (batch?.status == .paused ? .batchPaused : nil)
    var pauseEvidence: Evidence?
    switch pause {
    case .enrollmentPaused?: pauseEvidence = .enrollment(enrollmentRef, e.id, e.status)
    case .batchPaused?: if let batch { pauseEvidence = .batch(RowRef(.batches, batch.line), batch.id, batch.status) }
    case nil: break
    }
    let sequence = index.sequences[e.sequenceID]
    var steps: [PlannedStep] = []
    if sequence != nil {
      if let cached = scratch.steps[e.sequenceID] {
        steps = cached
      } else {
        steps = distinctSteps(index.stepsBySequence[e.sequenceID] ?? [], templates: index.templates)
        scratch.steps[e.sequenceID] = steps
      }
    }
    let identityID = e.identityID ?? sequence?.identityID

    var errors: [EnrollmentError] = []
    var errorEvidence: [Evidence?] = []
    if let sequence {
      if steps.isEmpty {
        errors.append(.sequenceHasNoSteps)
        errorEvidence.append(.sequence(RowRef(.sequences, sequence.line), sequence.id, sequence.status))
      }
    } else {
      errors.append(.sequenceNotFound)
      errorEvidence.append(.missingSequence(enrollment: enrollmentRef, sequenceID: e.sequenceID))
    }
    if pause == nil {
      if let sequence, sequence.status != .active {
        errors.append(.sequenceNotActive)
        errorEvidence.append(.sequence(RowRef(.sequences, sequence.line), sequence.id, sequence.status))
      }
      if let identityID {
        // The row that names the identity: the enrollment's own, else its sequence's.
        let namedBy = e.identityID != nil || sequence == nil ? enrollmentRef : RowRef(.sequences, sequence?.line ?? 0)
        switch index.identities[identityID] {
        case nil:
          errors.append(.identityNotFound)
          errorEvidence.append(.missingIdentity(namedBy: namedBy, identityID: identityID))
        case let row? where row.status == .verified: break
        case let row?:
          errors.append(.identityNotVerified)
          errorEvidence.append(.identity(RowRef(.identities, row.line), row.id, row.status))
        }
      } else {
        errors.append(.identityMissing)
        errorEvidence.append(
          sequence.map { .noIdentity(sequence: RowRef(.sequences, $0.line), sequenceID: $0.id) }
            ?? .missingSequence(enrollment: enrollmentRef, sequenceID: e.sequenceID))
      }
    }
    var enrollmentFailure: ValidationReason?
    var failureEvidence: Evidence?
    for (k, code) in errors.enumerated() {
      if let r = code.validationReason {
        enrollmentFailure = r
        failureEvidence = errorEvidence[k]
        break
      }
    }

    let recipients = index.recipientsByEnrollment[e.id] ?? []
    // Recipient-level decisions matter only when some item can reach rule 4 (or WouldSend).
    let reachesRecipients = pause == nil && enrollmentFailure == nil && steps.contains { $0.failure == nil }
    let (skips, recipientEvidence) =
      reachesRecipients
      ? recipientSkips(recipients, index: index, seen: &scratch.seen, normalized: &scratch.normalized)
      : ([SkipReason?](repeating: nil, count: recipients.count), [])

    var items: [PlannedItem] = []
    if !steps.isEmpty && !recipients.isEmpty {
      items.reserveCapacity(steps.count * recipients.count)
      // What rule 4 gives each recipient, decided once, and each recipient's last step sent.
      let q = Queued()
      let decided = skips.map { s in s.map { q.planned().skip($0) } ?? q.planned().wouldSend() }
      let lastSent = recipients.map(\.lastStepSent)
      for (si, step) in steps.enumerated() {
        // Rules 1 to 3 give every item of the step the same status.
        let common: ItemStatus? =
          if let pause { q.pause(pause) } else if let enrollmentFailure {
            q.failValidation(enrollmentFailure)
          } else if let f = step.failure { q.failValidation(f) } else { nil }
        for ri in 0..<lastSent.count where step.order > lastSent[ri] {
          items.append(PlannedItem(recipient: Int32(ri), step: Int32(si), status: common ?? decided[ri]))
        }
      }
    }
    return EnrollmentPlan(
      enrollmentID: e.id, status: e.status, errors: errors, identityID: identityID, steps: steps,
      recipients: recipients, items: items, errorEvidence: errorEvidence, pauseEvidence: pauseEvidence,
      failureEvidence: failureEvidence, recipientEvidence: recipientEvidence)
  }

  /// Groups step rows by order; a shared order is `invalid_step` and carries no template.
  static func distinctSteps(_ rows: [StepRow], templates: [ID: TemplateRow]) -> [PlannedStep] {
    let sorted = rows.sorted { $0.order == $1.order ? $0.line < $1.line : $0.order < $1.order }
    var out: [PlannedStep] = []
    var i = 0
    while i < sorted.count {
      var j = i + 1
      while j < sorted.count && sorted[j].order == sorted[i].order { j += 1 }
      if j - i > 1 {
        let shared = Evidence.sharedOrder(sorted[i].order, sorted[i..<j].map { RowRef(.steps, $0.line) })
        out.append(PlannedStep(order: sorted[i].order, templateID: nil, failure: .invalidStep, evidence: shared))
      } else {
        let t = sorted[i].templateID
        let failure: ValidationReason?
        var evidence: Evidence?
        switch templates[t] {
        case nil:
          failure = .templateNotFound
          evidence = .missingTemplate(step: RowRef(.steps, sorted[i].line), templateID: t)
        case let row? where row.status == .active: failure = nil
        case let row?:
          failure = .templateNotActive
          evidence = .template(RowRef(.templates, row.line), row.id, row.status)
        }
        out.append(PlannedStep(order: sorted[i].order, templateID: t, failure: failure, evidence: evidence))
      }
      i = j
    }
    return out
  }

  /// The recipient-level skip reason of each recipient (rule 4), decided once per recipient, and the
  /// evidence of those that have any (by recipient index).
  ///
  /// Works on the address bytes: each address is normalised once into `normalized`, and the
  /// duplicate and suppression lookups hash those bytes (``ByteTable``) instead of a `String`.
  static func recipientSkips(
    _ recipients: [RecipientRow], index: TenantIndex, seen: inout ByteTable<Int32>, normalized: inout [UInt8]
  ) -> ([SkipReason?], [RecipientEvidence]) {
    // The first recipient (by id) seen with each valid normalised address.
    seen.reset(expected: recipients.count)
    var out: [SkipReason?] = []
    var evidence: [RecipientEvidence] = []
    out.reserveCapacity(recipients.count)
    for k in recipients.indices {
      let ri = Int32(k)
      let length = recipients[k].email.withBytes { Email.normalize($0, into: &normalized) }
      let (skip, ev) = normalized.withUnsafeBufferPointer { all -> (SkipReason?, Evidence?) in
        let n = UnsafeBufferPointer(rebasing: all[0..<length])
        guard Email.isValidNormalized(bytes: n) else {
          return (.invalidEmail, .invalidEmail(Email.problem(String(decoding: n, as: UTF8.self)) ?? .noAt))
        }
        let (first, inserted) = seen.insert(n) { ri }
        if recipients[k].optedOut { return (.optedOut, .optedOut(RowRef(.recipients, recipients[k].line))) }
        if let m = index.suppressions.match(bytes: n) { return (.suppressed, .suppression(m)) }
        if !inserted { return (.duplicateRecipient, .duplicate(of: seen[entry: first])) }
        return (nil, index.expired?.match(bytes: n).map { .expiredSuppression($0) })
      }
      out.append(skip)
      if let ev { evidence.append(RecipientEvidence(recipient: ri, evidence: ev)) }
    }
    return (out, evidence)
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
    // Duplicate keys are the only issues the index adds; most tenants provably have none.
    if DuplicateCheck.hasNone(tenant) { return tenant.issues.sorted() }
    return (tenant.issues + TenantIndex(tenant, asOf: Timestamp(seconds: 0)).issues).sorted()
  }

  /// ``issues(of:)`` of each tenant, in the tenants' order, worked out on every core.
  package static func issues(ofEach tenants: [TenantInput]) -> [[RowIssue]] {
    let found = Mutex([[RowIssue]](repeating: [], count: tenants.count))
    DispatchQueue.concurrentPerform(iterations: tenants.count) { k in
      let issues = issues(of: tenants[k])
      if !issues.isEmpty { found.withLock { $0[k] = issues } }
    }
    return found.withLock { $0 }
  }
}
