import SendplanEngine
import SendplanModel
import Testing

/// One rule of planning-rules §3.3: a change to the base tenant and the status it must give.
struct RuleCase: Sendable, CustomTestStringConvertible {
  let name: String
  let expected: ItemStatus?
  let errors: [EnrollmentError]
  let mutate: @Sendable (inout TenantInput) -> Void

  var testDescription: String { name }
}

let ruleCases: [RuleCase] = [
  RuleCase(name: "would send", expected: .wouldSend, errors: []) { _ in },
  RuleCase(name: "enrollment_paused", expected: .paused(.enrollmentPaused), errors: []) {
    $0.enrollments[0].status = .paused
  },
  RuleCase(name: "batch_paused", expected: .paused(.batchPaused), errors: []) {
    $0.batches = [BatchRow(line: 2, id: ID("b1"), status: .paused)]
    $0.enrollments[0].batchID = ID("b1")
  },
  RuleCase(name: "active batch does not pause", expected: .wouldSend, errors: []) {
    $0.batches = [BatchRow(line: 2, id: ID("b1"), status: .active)]
    $0.enrollments[0].batchID = ID("b1")
  },
  RuleCase(name: "unknown batch does not pause", expected: .wouldSend, errors: []) {
    $0.enrollments[0].batchID = ID("nope")
  },
  RuleCase(name: "sequence_not_active", expected: .failedValidation(.sequenceNotActive), errors: [.sequenceNotActive]) {
    $0.sequences[0].status = .archived
  },
  RuleCase(name: "identity_missing", expected: .failedValidation(.identityMissing), errors: [.identityMissing]) {
    $0.sequences[0].identityID = nil
  },
  RuleCase(name: "identity_not_found", expected: .failedValidation(.identityNotFound), errors: [.identityNotFound]) {
    $0.enrollments[0].identityID = ID("ghost")
  },
  RuleCase(
    name: "identity_not_verified", expected: .failedValidation(.identityNotVerified), errors: [.identityNotVerified]
  ) {
    $0.identities[0].status = .disabled
  },
  RuleCase(name: "enrollment identity wins over sequence's", expected: .wouldSend, errors: []) {
    $0.identities.append(IdentityRow(line: 3, id: ID("i2"), status: .verified))
    $0.sequences[0].identityID = ID("ghost")
    $0.enrollments[0].identityID = ID("i2")
  },
  RuleCase(name: "invalid_step", expected: .failedValidation(.invalidStep), errors: []) {
    $0.steps.append(StepRow(line: 3, sequenceID: ID("s1"), order: 1, templateID: ID("tp1")))
  },
  RuleCase(name: "template_not_found", expected: .failedValidation(.templateNotFound), errors: []) {
    $0.steps[0].templateID = ID("ghost")
  },
  RuleCase(name: "template_not_active", expected: .failedValidation(.templateNotActive), errors: []) {
    $0.templates[0].status = .draft
  },
  RuleCase(name: "invalid_email", expected: .skipped(.invalidEmail), errors: []) {
    $0.recipients[0].email = "no-at-sign"
  },
  RuleCase(name: "opted_out", expected: .skipped(.optedOut), errors: []) {
    $0.recipients[0].optedOut = true
  },
  RuleCase(name: "suppressed by email", expected: .skipped(.suppressed), errors: []) {
    $0.suppressions = [suppression(.email, " A@X.TEST ")]
  },
  RuleCase(name: "suppressed by domain", expected: .skipped(.suppressed), errors: []) {
    $0.suppressions = [suppression(.domain, "x.test")]
  },
  RuleCase(name: "suppressed by parent domain", expected: .skipped(.suppressed), errors: []) {
    $0.recipients[0].email = "a@mail.x.test"
    $0.suppressions = [suppression(.domain, "x.test")]
  },
  RuleCase(name: "suppressed by top-level domain", expected: .skipped(.suppressed), errors: []) {
    $0.suppressions = [suppression(.domain, "test")]
  },
  RuleCase(name: "domain suffix that is not a label is no match", expected: .wouldSend, errors: []) {
    $0.recipients[0].email = "a@myx.test"
    $0.suppressions = [suppression(.domain, "x.test")]
  },
  RuleCase(name: "expired suppression (expires_at == as_of)", expected: .wouldSend, errors: []) {
    $0.suppressions = [suppression(.email, "a@x.test", expires: "2026-11-27T02:00:00Z")]
  },
  RuleCase(name: "suppression expiring one second later is in force", expected: .skipped(.suppressed), errors: []) {
    $0.suppressions = [suppression(.email, "a@x.test", expires: "2026-11-27T02:00:01Z")]
  },
  RuleCase(name: "suppression expiring a fraction later is in force", expected: .skipped(.suppressed), errors: []) {
    $0.suppressions = [suppression(.email, "a@x.test", expires: "2026-11-27T02:00:00.001Z")]
  },
  RuleCase(name: "expiry compared in UTC", expected: .wouldSend, errors: []) {
    $0.suppressions = [suppression(.email, "a@x.test", expires: "2026-11-27T03:00:00+01:00")]
  },
  RuleCase(name: "sequence_not_found gives no items", expected: nil, errors: [.sequenceNotFound]) {
    $0.enrollments[0].sequenceID = ID("ghost")
    $0.enrollments[0].identityID = ID("i1")
  },
  RuleCase(
    name: "sequence_not_found and identity_missing", expected: nil, errors: [.sequenceNotFound, .identityMissing]
  ) {
    $0.enrollments[0].sequenceID = ID("ghost")
  },
  RuleCase(name: "sequence_has_no_steps", expected: nil, errors: [.sequenceHasNoSteps]) {
    $0.steps = []
  },
  RuleCase(
    name: "not active and not verified", expected: .failedValidation(.sequenceNotActive),
    errors: [.sequenceNotActive, .identityNotVerified]
  ) {
    $0.sequences[0].status = .inactive
    $0.identities[0].status = .unverified
  },
  RuleCase(name: "paused reports only 3.2 codes", expected: nil, errors: [.sequenceHasNoSteps]) {
    $0.enrollments[0].status = .paused
    $0.steps = []
    $0.identities = []
  },
]

@Test("each rule of §3.3", arguments: ruleCases)
func rule(_ c: RuleCase) throws {
  var t = baseTenant()
  c.mutate(&t)
  let e = try planOne(t)
  #expect(e.errors == c.errors)
  if let expected = c.expected {
    #expect(e.statuses == [expected])
  } else {
    #expect(e.items.isEmpty)
  }
}

/// Two rules that both apply: the earlier one in §3.3 must win.
struct PrecedenceCase: Sendable, CustomTestStringConvertible {
  let winner: ItemStatus
  let loser: String
  let apply: @Sendable (inout TenantInput) -> Void
  var testDescription: String { "\(winner.reason ?? "WouldSend") beats \(loser)" }
}

// Setters for every rule, so each pair can be combined.
let setPaused: @Sendable (inout TenantInput) -> Void = { $0.enrollments[0].status = .paused }
let setBatchPaused: @Sendable (inout TenantInput) -> Void = {
  $0.batches = [BatchRow(line: 2, id: ID("b1"), status: .paused)]
  $0.enrollments[0].batchID = ID("b1")
}
let setSeqInactive: @Sendable (inout TenantInput) -> Void = { $0.sequences[0].status = .inactive }
let setIdentityMissing: @Sendable (inout TenantInput) -> Void = { $0.sequences[0].identityID = nil }
let setIdentityNotFound: @Sendable (inout TenantInput) -> Void = { $0.identities = [] }
let setIdentityUnverified: @Sendable (inout TenantInput) -> Void = { $0.identities[0].status = .unverified }
let setInvalidStep: @Sendable (inout TenantInput) -> Void = {
  $0.steps.append(StepRow(line: 3, sequenceID: ID("s1"), order: 1, templateID: ID("tp1")))
}
let setTemplateMissing: @Sendable (inout TenantInput) -> Void = { $0.templates = [] }
let setTemplateDraft: @Sendable (inout TenantInput) -> Void = { $0.templates[0].status = .archived }
/// Changes recipient r1 wherever other setters have moved it.
func withR1(_ t: inout TenantInput, _ change: (inout RecipientRow) -> Void) {
  if let i = t.recipients.firstIndex(where: { $0.id == ID("r1") }) { change(&t.recipients[i]) }
}
let setInvalidEmail: @Sendable (inout TenantInput) -> Void = { withR1(&$0) { $0.email = "bad@@x.test" } }
let setOptedOut: @Sendable (inout TenantInput) -> Void = { withR1(&$0) { $0.optedOut = true } }
let setSuppressed: @Sendable (inout TenantInput) -> Void = {
  $0.suppressions = [suppression(.email, "a@x.test"), suppression(.email, "bad@@x.test")]
}
let setDuplicate: @Sendable (inout TenantInput) -> Void = {
  $0.recipients.insert(recipient("r0", "A@x.test", last: 5), at: 0)
}

let ruleSetters: [(ItemStatus, String, @Sendable (inout TenantInput) -> Void)] = [
  (.paused(.enrollmentPaused), "enrollment_paused", setPaused),
  (.paused(.batchPaused), "batch_paused", setBatchPaused),
  (.failedValidation(.sequenceNotActive), "sequence_not_active", setSeqInactive),
  (.failedValidation(.identityMissing), "identity_missing", setIdentityMissing),
  (.failedValidation(.identityNotFound), "identity_not_found", setIdentityNotFound),
  (.failedValidation(.identityNotVerified), "identity_not_verified", setIdentityUnverified),
  (.failedValidation(.invalidStep), "invalid_step", setInvalidStep),
  (.failedValidation(.templateNotFound), "template_not_found", setTemplateMissing),
  (.failedValidation(.templateNotActive), "template_not_active", setTemplateDraft),
  (.skipped(.invalidEmail), "invalid_email", setInvalidEmail),
  (.skipped(.optedOut), "opted_out", setOptedOut),
  (.skipped(.suppressed), "suppressed", setSuppressed),
  (.skipped(.duplicateRecipient), "duplicate_recipient", setDuplicate),
]

/// Pairs that cannot both hold (same field) or do not interact are left out.
func exclusive(_ a: String, _ b: String) -> Bool {
  let groups: [Set<String>] = [
    ["identity_missing", "identity_not_found", "identity_not_verified"],
    ["invalid_step", "template_not_found", "template_not_active"],
  ]
  if a == "invalid_email" && b == "suppressed" { return false }
  return groups.contains { $0.contains(a) && $0.contains(b) }
}

let precedenceCases: [PrecedenceCase] = {
  var out: [PrecedenceCase] = []
  for (i, w) in ruleSetters.enumerated() {
    for l in ruleSetters[(i + 1)...] where !exclusive(w.1, l.1) {
      let (applyW, applyL) = (w.2, l.2)
      out.append(
        PrecedenceCase(winner: w.0, loser: l.1) { t in
          applyL(&t)
          applyW(&t)
        })
    }
  }
  return out
}()

@Test("precedence pairs of §3.3", arguments: precedenceCases)
func precedence(_ c: PrecedenceCase) throws {
  var t = baseTenant()
  c.apply(&t)
  let e = try planOne(t)
  let mine = e.summary.filter { $0.1 == "r1" }.map(\.2)
  #expect(mine == [c.winner])
}

@Test func precedenceTableIsLarge() {
  // 13 rules, minus the exclusive pairs: a guard against the generator silently shrinking.
  #expect(precedenceCases.count >= 70)
}
