/// Status of a sender identity.
public enum IdentityStatus: String, Sendable, CaseIterable {
  case verified, unverified, disabled
}

/// Status of a template.
public enum TemplateStatus: String, Sendable, CaseIterable {
  case active, draft, archived
}

/// Status of a sequence.
public enum SequenceStatus: String, Sendable, CaseIterable {
  case active, inactive, archived
}

/// Status of an enrollment.
public enum EnrollmentStatus: String, Sendable, CaseIterable {
  case active, paused, completed, cancelled
}

/// Status of a batch.
public enum BatchStatus: String, Sendable, CaseIterable {
  case active, paused
}

/// What a suppression row matches on.
public enum SuppressionType: String, Sendable, CaseIterable {
  case email, domain
}

/// One row of `identities`.
public struct IdentityRow: Sendable, Equatable {
  public var line: Int
  public var id: ID
  public var status: IdentityStatus
  public init(line: Int, id: ID, status: IdentityStatus) {
    self.line = line
    self.id = id
    self.status = status
  }
}

/// One row of `templates`.
public struct TemplateRow: Sendable, Equatable {
  public var line: Int
  public var id: ID
  public var status: TemplateStatus
  public init(line: Int, id: ID, status: TemplateStatus) {
    self.line = line
    self.id = id
    self.status = status
  }
}

/// One row of `sequences`.
public struct SequenceRow: Sendable, Equatable {
  public var line: Int
  public var id: ID
  public var status: SequenceStatus
  public var identityID: ID?
  public init(line: Int, id: ID, status: SequenceStatus, identityID: ID?) {
    self.line = line
    self.id = id
    self.status = status
    self.identityID = identityID
  }
}

/// One row of `steps`.
public struct StepRow: Sendable, Equatable {
  public var line: Int
  public var sequenceID: ID
  public var order: Int64
  public var templateID: ID
  public init(line: Int, sequenceID: ID, order: Int64, templateID: ID) {
    self.line = line
    self.sequenceID = sequenceID
    self.order = order
    self.templateID = templateID
  }
}

/// One row of `enrollments`.
public struct EnrollmentRow: Sendable, Equatable {
  public var line: Int
  public var id: ID
  public var sequenceID: ID
  public var status: EnrollmentStatus
  public var identityID: ID?
  public var batchID: ID?
  public init(line: Int, id: ID, sequenceID: ID, status: EnrollmentStatus, identityID: ID?, batchID: ID?) {
    self.line = line
    self.id = id
    self.sequenceID = sequenceID
    self.status = status
    self.identityID = identityID
    self.batchID = batchID
  }
}

/// One row of `batches`.
public struct BatchRow: Sendable, Equatable {
  public var line: Int
  public var id: ID
  public var status: BatchStatus
  public init(line: Int, id: ID, status: BatchStatus) {
    self.line = line
    self.id = id
    self.status = status
  }
}

/// One row of `recipients`. `email` is kept exactly as exported.
public struct RecipientRow: Sendable, Equatable {
  public var line: Int
  public var enrollmentID: ID
  public var id: ID
  public var email: String
  public var optedOut: Bool
  public var lastStepSent: Int64
  public init(line: Int, enrollmentID: ID, id: ID, email: String, optedOut: Bool, lastStepSent: Int64) {
    self.line = line
    self.enrollmentID = enrollmentID
    self.id = id
    self.email = email
    self.optedOut = optedOut
    self.lastStepSent = lastStepSent
  }
}

/// One row of `suppressions`. `value` is kept as exported; the engine normalises it.
public struct SuppressionRow: Sendable, Equatable {
  public var line: Int
  public var type: SuppressionType
  public var value: String
  public var expiresAt: Timestamp?
  public init(line: Int, type: SuppressionType, value: String, expiresAt: Timestamp?) {
    self.line = line
    self.type = type
    self.value = value
    self.expiresAt = expiresAt
  }
}
