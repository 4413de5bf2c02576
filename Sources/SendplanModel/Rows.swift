/// Status of a sender identity.
package enum IdentityStatus: String, Sendable, CaseIterable {
  case verified, unverified, disabled
}

/// Status of a template.
package enum TemplateStatus: String, Sendable, CaseIterable {
  case active, draft, archived
}

/// Status of a sequence.
package enum SequenceStatus: String, Sendable, CaseIterable {
  case active, inactive, archived
}

/// Status of an enrollment.
package enum EnrollmentStatus: String, Sendable, CaseIterable {
  case active, paused, completed, cancelled
}

/// Status of a batch.
package enum BatchStatus: String, Sendable, CaseIterable {
  case active, paused
}

/// What a suppression row matches on.
package enum SuppressionType: String, Sendable, CaseIterable {
  case email, domain
}

/// One row of `identities`.
package struct IdentityRow: Sendable, Equatable {
  package var line: Int
  package var id: ID
  package var status: IdentityStatus
  package init(line: Int, id: ID, status: IdentityStatus) {
    self.line = line
    self.id = id
    self.status = status
  }
}

/// One row of `templates`.
package struct TemplateRow: Sendable, Equatable {
  package var line: Int
  package var id: ID
  package var status: TemplateStatus
  package init(line: Int, id: ID, status: TemplateStatus) {
    self.line = line
    self.id = id
    self.status = status
  }
}

/// One row of `sequences`.
package struct SequenceRow: Sendable, Equatable {
  package var line: Int
  package var id: ID
  package var status: SequenceStatus
  package var identityID: ID?
  package init(line: Int, id: ID, status: SequenceStatus, identityID: ID?) {
    self.line = line
    self.id = id
    self.status = status
    self.identityID = identityID
  }
}

/// One row of `steps`.
package struct StepRow: Sendable, Equatable {
  package var line: Int
  package var sequenceID: ID
  package var order: Int64
  package var templateID: ID
  package init(line: Int, sequenceID: ID, order: Int64, templateID: ID) {
    self.line = line
    self.sequenceID = sequenceID
    self.order = order
    self.templateID = templateID
  }
}

/// One row of `enrollments`.
package struct EnrollmentRow: Sendable, Equatable {
  package var line: Int
  package var id: ID
  package var sequenceID: ID
  package var status: EnrollmentStatus
  package var identityID: ID?
  package var batchID: ID?
  package init(line: Int, id: ID, sequenceID: ID, status: EnrollmentStatus, identityID: ID?, batchID: ID?) {
    self.line = line
    self.id = id
    self.sequenceID = sequenceID
    self.status = status
    self.identityID = identityID
    self.batchID = batchID
  }
}

/// One row of `batches`.
package struct BatchRow: Sendable, Equatable {
  package var line: Int
  package var id: ID
  package var status: BatchStatus
  package init(line: Int, id: ID, status: BatchStatus) {
    self.line = line
    self.id = id
    self.status = status
  }
}

/// One row of `recipients`. `email` is kept exactly as exported, as bytes (``Text``): a bundle
/// has millions of addresses, and a `String` each was one allocation per row.
package struct RecipientRow: Sendable, Equatable {
  package var line: Int
  package var enrollmentID: ID
  package var id: ID
  package var email: Text
  /// `last_step_sent` (at least 0) in the low 63 bits and `opted_out` in the top bit: a row is then
  /// 64 bytes, not 72, and a bundle has millions of them.
  private var lastAndOptedOut: UInt64

  package var optedOut: Bool {
    get { lastAndOptedOut >> 63 != 0 }
    set { lastAndOptedOut = lastAndOptedOut & ~(1 << 63) | (newValue ? 1 << 63 : 0) }
  }

  /// Never negative: the reader rejects a negative `last_step_sent`, and a negative value set here is stored as 0.
  package var lastStepSent: Int64 {
    get { Int64(lastAndOptedOut & ~(1 << 63)) }
    set { lastAndOptedOut = lastAndOptedOut & (1 << 63) | UInt64(max(0, newValue)) }
  }

  package init(line: Int, enrollmentID: ID, id: ID, email: Text, optedOut: Bool, lastStepSent: Int64) {
    self.line = line
    self.enrollmentID = enrollmentID
    self.id = id
    self.email = email
    self.lastAndOptedOut = UInt64(max(0, lastStepSent)) | (optedOut ? 1 << 63 : 0)
  }
}

/// One row of `suppressions`. `value` is kept as exported; the engine normalises it.
package struct SuppressionRow: Sendable, Equatable {
  package var line: Int
  package var type: SuppressionType
  package var value: String
  package var expiresAt: Timestamp?
  /// The export's `reason` as written (free text such as `bounce`); only shown as evidence.
  package var reason: String?
  /// The export's `created_at`; only shown as evidence.
  package var createdAt: Timestamp?
  package init(
    line: Int, type: SuppressionType, value: String, expiresAt: Timestamp?, reason: String? = nil,
    createdAt: Timestamp? = nil
  ) {
    self.line = line
    self.type = type
    self.value = value
    self.expiresAt = expiresAt
    self.reason = reason
    self.createdAt = createdAt
  }
}
