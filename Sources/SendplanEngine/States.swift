import SendplanModel

/// Why a recipient is skipped (planning-rules §3.3 rule 4), in precedence order.
package enum SkipReason: String, Sendable, CaseIterable, Comparable {
  /// Position in `allCases`, for array-backed counters.
  @inline(__always)
  var index: Int { Self.allCases.firstIndex(of: self) ?? 0 }

  case invalidEmail = "invalid_email"
  case optedOut = "opted_out"
  case suppressed = "suppressed"
  case duplicateRecipient = "duplicate_recipient"

  package static func < (a: SkipReason, b: SkipReason) -> Bool { a.rawValue < b.rawValue }
}

/// Why an item fails validation (rules 2 and 3 of §3.3).
package enum ValidationReason: String, Sendable, CaseIterable, Comparable {
  /// Position in `allCases`, for array-backed counters.
  @inline(__always)
  var index: Int { Self.allCases.firstIndex(of: self) ?? 0 }

  case sequenceNotActive = "sequence_not_active"
  case identityMissing = "identity_missing"
  case identityNotFound = "identity_not_found"
  case identityNotVerified = "identity_not_verified"
  case invalidStep = "invalid_step"
  case templateNotFound = "template_not_found"
  case templateNotActive = "template_not_active"

  package static func < (a: ValidationReason, b: ValidationReason) -> Bool { a.rawValue < b.rawValue }
}

/// Why an item is paused (rule 1 of §3.3).
package enum PauseReason: String, Sendable, CaseIterable, Comparable {
  /// Position in `allCases`, for array-backed counters.
  @inline(__always)
  var index: Int { Self.allCases.firstIndex(of: self) ?? 0 }

  case enrollmentPaused = "enrollment_paused"
  case batchPaused = "batch_paused"

  package static func < (a: PauseReason, b: PauseReason) -> Bool { a.rawValue < b.rawValue }
}

/// Enrollment-level codes reported in a dry run's `errors` (§4), in their reporting order.
package enum EnrollmentError: String, Sendable, CaseIterable {
  case sequenceNotFound = "sequence_not_found"
  case sequenceHasNoSteps = "sequence_has_no_steps"
  case sequenceNotActive = "sequence_not_active"
  case identityMissing = "identity_missing"
  case identityNotFound = "identity_not_found"
  case identityNotVerified = "identity_not_verified"

  /// The item reason this code gives under rule 2, or nil for the §3.2 codes.
  package var validationReason: ValidationReason? {
    switch self {
    case .sequenceNotFound, .sequenceHasNoSteps: return nil
    case .sequenceNotActive: return .sequenceNotActive
    case .identityMissing: return .identityMissing
    case .identityNotFound: return .identityNotFound
    case .identityNotVerified: return .identityNotVerified
    }
  }
}

/// The final status of a planned item, with its reason.
package enum ItemStatus: Sendable, Equatable, Hashable {
  case wouldSend
  case skipped(SkipReason)
  case failedValidation(ValidationReason)
  case paused(PauseReason)

  /// The contract's status name.
  package var name: String {
    switch self {
    case .wouldSend: return "WouldSend"
    case .skipped: return "Skipped"
    case .failedValidation: return "FailedValidation"
    case .paused: return "Paused"
    }
  }

  /// The reason code, absent only for WouldSend.
  package var reason: String? {
    switch self {
    case .wouldSend: return nil
    case .skipped(let r): return r.rawValue
    case .failedValidation(let r): return r.rawValue
    case .paused(let r): return r.rawValue
    }
  }

  /// `allowed` for WouldSend, the skip reason for Skipped, nil otherwise (§3.3).
  package var suppressionResult: String? {
    switch self {
    case .wouldSend: return "allowed"
    case .skipped(let r): return r.rawValue
    default: return nil
    }
  }

  /// The status names in the order used by summaries.
  package static let names = ["FailedValidation", "Paused", "Skipped", "WouldSend"]

  /// Position of `name` in ``names``.
  @inline(__always)
  var nameIndex: Int {
    switch self {
    case .failedValidation: return 0
    case .paused: return 1
    case .skipped: return 2
    case .wouldSend: return 3
    }
  }
}

/// A queue item's state in the Stage 2A state machine.
///
/// Queued → DryRunPlanned → WouldSend | Skipped; any state → FailedValidation or Paused.
package enum QueueState: Sendable, Equatable, Hashable {
  case queued
  case dryRunPlanned
  case wouldSend
  case skipped(SkipReason)
  case failedValidation(ValidationReason)
  case paused(PauseReason)

  /// Whether the contract allows moving from this state to `next`.
  package func canTransition(to next: QueueState) -> Bool {
    switch (self, next) {
    case (_, .failedValidation), (_, .paused): return true
    case (.queued, .dryRunPlanned): return true
    case (.dryRunPlanned, .wouldSend), (.dryRunPlanned, .skipped): return true
    default: return false
    }
  }

  /// The item status for a terminal state, nil for Queued and DryRunPlanned.
  package var itemStatus: ItemStatus? {
    switch self {
    case .queued, .dryRunPlanned: return nil
    case .wouldSend: return .wouldSend
    case .skipped(let r): return .skipped(r)
    case .failedValidation(let r): return .failedValidation(r)
    case .paused(let r): return .paused(r)
    }
  }
}

/// A rejected state change.
package struct TransitionError: Error, Sendable, Equatable, CustomStringConvertible {
  package let from: QueueState
  package let to: QueueState

  package init(from: QueueState, to: QueueState) {
    self.from = from
    self.to = to
  }

  package var description: String { "illegal queue transition \(from) → \(to)" }
}

/// A queue item whose state changes only along the contract's transitions.
package struct QueueItem: Sendable, Equatable {
  package private(set) var state: QueueState = .queued

  package init() {}

  /// Moves to `next`, or throws when the state machine forbids it; the state is then unchanged.
  package mutating func transition(to next: QueueState) throws(TransitionError) {
    guard state.canTransition(to: next) else { throw TransitionError(from: state, to: next) }
    state = next
  }
}

/// Typed planning steps: each value only offers the transitions that are legal from it,
/// so the planner cannot express an illegal one.
package struct Queued: Sendable {
  package init() {}
  /// Queued → DryRunPlanned.
  package func planned() -> DryRunPlanned { DryRunPlanned() }
  /// Any → FailedValidation.
  package func failValidation(_ r: ValidationReason) -> ItemStatus { .failedValidation(r) }
  /// Any → Paused.
  package func pause(_ r: PauseReason) -> ItemStatus { .paused(r) }
}

/// The state after the dry run has looked at an item.
package struct DryRunPlanned: Sendable {
  /// DryRunPlanned → WouldSend.
  package func wouldSend() -> ItemStatus { .wouldSend }
  /// DryRunPlanned → Skipped.
  package func skip(_ r: SkipReason) -> ItemStatus { .skipped(r) }
  /// Any → FailedValidation.
  package func failValidation(_ r: ValidationReason) -> ItemStatus { .failedValidation(r) }
  /// Any → Paused.
  package func pause(_ r: PauseReason) -> ItemStatus { .paused(r) }
}
