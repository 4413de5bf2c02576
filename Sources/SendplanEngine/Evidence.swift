import SendplanModel

/// A row of the tenant's export: its table and its ``RowLine`` (part file and line in it).
/// ``TenantPlan/location(_:)`` turns it into a file name and a line.
package struct RowRef: Sendable, Hashable, Comparable {
  package var table: Table
  /// A ``RowLine``.
  package var line: Int

  package init(_ table: Table, _ line: Int) {
    self.table = table
    self.line = line
  }

  package static func < (a: RowRef, b: RowRef) -> Bool {
    a.table == b.table ? a.line < b.line : a.table.rawValue < b.table.rawValue
  }
}

/// How a suppression rule matched an address.
package enum SuppressionMatchKind: String, Sendable, CaseIterable {
  /// An `email` rule equal to the address after normalisation.
  case email
  /// A `domain` rule equal to the address's domain.
  case domain
  /// A `domain` rule naming a parent of the address's domain.
  case parentDomain = "parent_domain"
}

/// The suppression rule chosen as evidence, and how many rules match.
package struct SuppressionMatch: Sendable, Equatable {
  /// Index into ``TenantPlan/suppressions``: of the matching rules, the first by file and line.
  package var rule: Int32
  /// How that rule matched.
  package var kind: SuppressionMatchKind
  /// How many rules match the address (in force for `suppressed`, expired for WouldSend); at least 1.
  package var count: Int32

  package init(rule: Int32, kind: SuppressionMatchKind, count: Int32) {
    self.rule = rule
    self.kind = kind
    self.count = count
  }
}

/// Which part of the address check of planning-rules §5 failed, in the order the check runs.
package enum EmailProblem: String, Sendable, CaseIterable {
  /// Longer than 254 bytes.
  case tooLong = "too_long"
  /// A byte outside ASCII.
  case nonASCII = "non_ascii"
  /// No `@`.
  case noAt = "no_at"
  /// More than one `@`.
  case severalAt = "several_at"
  /// The local part is empty or longer than 64 bytes.
  case localPartLength = "local_part_length"
  /// A character the local part may not hold (control, space or one of `"(),:;<>@[\]`).
  case localPartCharacter = "local_part_character"
  /// A domain label that is empty, longer than 63 bytes, holds a character other than
  /// `a-z 0-9 -` or starts or ends with `-`.
  case domainLabel = "domain_label"
  /// The domain has a single label.
  case domainSingleLabel = "domain_single_label"
}

/// Why an item has the status it has: a small reference into the tenant's rows, never a copy of them.
///
/// Which case goes with which reason is listed in docs/explain.md.
package enum Evidence: Sendable, Equatable {
  /// `suppressed`: the rule in force that matched.
  case suppression(SuppressionMatch)
  /// WouldSend: rules that would have matched but had expired at `asOf`.
  case expiredSuppression(SuppressionMatch)
  /// `opted_out`: the recipients row that says so.
  case optedOut(RowRef)
  /// `duplicate_recipient`: the earlier recipient (index into the enrollment's recipients, which
  /// are sorted by id) with the same normalised address.
  case duplicate(of: Int32)
  /// `invalid_email`: the check that failed.
  case invalidEmail(EmailProblem)
  /// `template_not_active`: the template row and its status.
  case template(RowRef, ID, TemplateStatus)
  /// `template_not_found`: the step row naming a template the tenant does not have.
  case missingTemplate(step: RowRef, templateID: ID)
  /// `invalid_step`: the step rows sharing one order, by line.
  case sharedOrder(Int64, [RowRef])
  /// `sequence_not_active` and `sequence_has_no_steps`: the sequence row and its status.
  case sequence(RowRef, ID, SequenceStatus)
  /// `sequence_not_found`: the enrollment row naming a sequence the tenant does not have.
  case missingSequence(enrollment: RowRef, sequenceID: ID)
  /// `identity_not_verified`: the identity row and its status.
  case identity(RowRef, ID, IdentityStatus)
  /// `identity_not_found`: the enrollment or sequence row naming an identity the tenant does not have.
  case missingIdentity(namedBy: RowRef, identityID: ID)
  /// `identity_missing`: the sequence row, which names no identity (nor does the enrollment).
  case noIdentity(sequence: RowRef, sequenceID: ID)
  /// `enrollment_paused`: the enrollment row and its status.
  case enrollment(RowRef, ID, EnrollmentStatus)
  /// `batch_paused`: the batch row and its status.
  case batch(RowRef, ID, BatchStatus)
}

extension EnrollmentPlan {
  /// The evidence for one of this plan's items: why it has its status, or for WouldSend the
  /// expired rules that would have matched; nil when there is nothing to cite.
  package func evidence(for item: PlannedItem) -> Evidence? {
    switch item.status {
    case .paused: return pauseEvidence
    case .failedValidation:
      if let e = failureEvidence { return e }
      let s = Int(item.step)
      return s < steps.count ? steps[s].evidence : nil
    case .skipped, .wouldSend:
      return evidence(ofRecipient: item.recipient)
    }
  }

  /// The recipient-level evidence of recipient `index` (skip reasons, expired rules).
  package func evidence(ofRecipient index: Int32) -> Evidence? {
    // Sparse and sorted by recipient; most recipients have none.
    var lo = 0
    var hi = recipientEvidence.count
    while lo < hi {
      let mid = (lo + hi) / 2
      if recipientEvidence[mid].recipient < index { lo = mid + 1 } else { hi = mid }
    }
    return lo < recipientEvidence.count && recipientEvidence[lo].recipient == index
      ? recipientEvidence[lo].evidence : nil
  }
}

extension TenantPlan {
  /// The bundle file name and 1-based line in it of a cited row; part files give their own name and line.
  package func location(_ ref: RowRef) -> (file: String, line: Int) {
    let names = fileNames[ref.table] ?? []
    let part = RowLine.part(ref.line)
    return (part < names.count ? names[part] : ref.table.rawValue, RowLine.line(ref.line))
  }
}
