import SendplanEngine
import SendplanModel
import Testing

/// One reason code: a change to the base tenant, the status of its (first) item and the evidence expected.
struct EvidenceCase: Sendable, CustomTestStringConvertible {
  let name: String
  let status: ItemStatus
  let evidence: Evidence?
  let mutate: @Sendable (inout TenantInput) -> Void

  var testDescription: String { name }
}

let evidenceCases: [EvidenceCase] = [
  EvidenceCase(name: "would send, nothing to cite", status: .wouldSend, evidence: nil) { _ in },
  EvidenceCase(
    name: "would send after a suppression expired", status: .wouldSend,
    evidence: .expiredSuppression(SuppressionMatch(rule: 1, kind: .domain, count: 2))
  ) {
    $0.suppressions = [
      SuppressionRow(line: 9, type: .email, value: "A@x.test", expiresAt: Timestamp.parse("2026-11-01T00:00:00Z")),
      SuppressionRow(line: 4, type: .domain, value: "x.test", expiresAt: Timestamp.parse("2026-11-27T02:00:00Z")),
    ]
  },
  EvidenceCase(
    name: "suppressed by email", status: .skipped(.suppressed),
    evidence: .suppression(SuppressionMatch(rule: 0, kind: .email, count: 1))
  ) {
    $0.suppressions = [SuppressionRow(line: 3, type: .email, value: " A@X.test ", expiresAt: nil, reason: "bounce")]
  },
  EvidenceCase(
    name: "suppressed by domain", status: .skipped(.suppressed),
    evidence: .suppression(SuppressionMatch(rule: 0, kind: .domain, count: 1))
  ) {
    $0.suppressions = [SuppressionRow(line: 3, type: .domain, value: "X.TEST", expiresAt: nil)]
  },
  EvidenceCase(
    name: "suppressed by parent domain; first by line of three in force", status: .skipped(.suppressed),
    evidence: .suppression(SuppressionMatch(rule: 2, kind: .parentDomain, count: 3))
  ) {
    $0.recipients[0].email = "a@mail.x.test"
    $0.suppressions = [
      SuppressionRow(line: 8, type: .email, value: "a@mail.x.test", expiresAt: nil),
      SuppressionRow(line: 5, type: .domain, value: "mail.x.test", expiresAt: nil),
      SuppressionRow(line: 2, type: .domain, value: "x.test", expiresAt: nil),
      SuppressionRow(line: 1, type: .domain, value: "x.test", expiresAt: Timestamp.parse("2020-01-01T00:00:00Z")),
    ]
  },
  EvidenceCase(name: "opted_out", status: .skipped(.optedOut), evidence: .optedOut(RowRef(.recipients, 7))) {
    $0.recipients = [recipient("r1", "a@x.test", optedOut: true, line: 7)]
  },
  EvidenceCase(name: "duplicate_recipient", status: .skipped(.duplicateRecipient), evidence: .duplicate(of: 0)) {
    // Items are ordered by recipient id; r0 comes first and is the earlier one, r1 is its duplicate.
    $0.recipients = [recipient("r1", " A@x.test", line: 3), recipient("r0", "a@X.TEST", line: 9)]
  },
  EvidenceCase(name: "invalid_email", status: .skipped(.invalidEmail), evidence: .invalidEmail(.noAt)) {
    $0.recipients[0].email = "no-at-sign"
  },
  EvidenceCase(
    name: "template_not_active", status: .failedValidation(.templateNotActive),
    evidence: .template(RowRef(.templates, 2), ID("tp1"), .draft)
  ) {
    $0.templates[0].status = .draft
  },
  EvidenceCase(
    name: "template_not_found", status: .failedValidation(.templateNotFound),
    evidence: .missingTemplate(step: RowRef(.steps, 2), templateID: ID("ghost"))
  ) {
    $0.steps[0].templateID = ID("ghost")
  },
  EvidenceCase(
    name: "invalid_step", status: .failedValidation(.invalidStep),
    evidence: .sharedOrder(1, [RowRef(.steps, 2), RowRef(.steps, 5)])
  ) {
    $0.steps.append(StepRow(line: 5, sequenceID: ID("s1"), order: 1, templateID: ID("tp1")))
  },
  EvidenceCase(
    name: "sequence_not_active", status: .failedValidation(.sequenceNotActive),
    evidence: .sequence(RowRef(.sequences, 2), ID("s1"), .archived)
  ) {
    $0.sequences[0].status = .archived
  },
  EvidenceCase(
    name: "identity_missing", status: .failedValidation(.identityMissing),
    evidence: .noIdentity(sequence: RowRef(.sequences, 2), sequenceID: ID("s1"))
  ) {
    $0.sequences[0].identityID = nil
  },
  EvidenceCase(
    name: "identity_not_found named by the enrollment", status: .failedValidation(.identityNotFound),
    evidence: .missingIdentity(namedBy: RowRef(.enrollments, 2), identityID: ID("ghost"))
  ) {
    $0.enrollments[0].identityID = ID("ghost")
  },
  EvidenceCase(
    name: "identity_not_found named by the sequence", status: .failedValidation(.identityNotFound),
    evidence: .missingIdentity(namedBy: RowRef(.sequences, 2), identityID: ID("ghost"))
  ) {
    $0.sequences[0].identityID = ID("ghost")
  },
  EvidenceCase(
    name: "identity_not_verified", status: .failedValidation(.identityNotVerified),
    evidence: .identity(RowRef(.identities, 2), ID("i1"), .unverified)
  ) {
    $0.identities[0].status = .unverified
  },
  EvidenceCase(
    name: "enrollment_paused", status: .paused(.enrollmentPaused),
    evidence: .enrollment(RowRef(.enrollments, 2), ID("e1"), .paused)
  ) {
    $0.enrollments[0].status = .paused
  },
  EvidenceCase(
    name: "batch_paused", status: .paused(.batchPaused), evidence: .batch(RowRef(.batches, 4), ID("b1"), .paused)
  ) {
    $0.batches = [BatchRow(line: 4, id: ID("b1"), status: .paused)]
    $0.enrollments[0].batchID = ID("b1")
  },
]

@Suite("Evidence")
struct EvidenceTests {
  @Test("every reason code carries its evidence", arguments: evidenceCases)
  func reasonEvidence(_ c: EvidenceCase) throws {
    var t = baseTenant()
    c.mutate(&t)
    let e = try planOne(t)
    let item = try #require(e.items.last)
    #expect(item.status == c.status)
    #expect(e.evidence(for: item) == c.evidence)
  }

  @Test("every reason code is covered by a case")
  func everyReasonCovered() {
    let covered = Set(evidenceCases.compactMap { $0.status.reason })
    let all = Set(
      SkipReason.allCases.map(\.rawValue) + ValidationReason.allCases.map(\.rawValue)
        + PauseReason.allCases.map(\.rawValue))
    #expect(covered == all)
  }

  @Test("enrollment-level codes carry the row behind them")
  func enrollmentErrors() throws {
    var t = baseTenant()
    t.enrollments[0].sequenceID = ID("ghost")
    var e = try planOne(t)
    #expect(e.errors == [.sequenceNotFound, .identityMissing])
    #expect(
      e.errorEvidence == [
        .missingSequence(enrollment: RowRef(.enrollments, 2), sequenceID: ID("ghost")),
        .missingSequence(enrollment: RowRef(.enrollments, 2), sequenceID: ID("ghost")),
      ])
    t = baseTenant()
    t.steps = []
    e = try planOne(t)
    #expect(e.errors == [.sequenceHasNoSteps])
    #expect(e.errorEvidence == [.sequence(RowRef(.sequences, 2), ID("s1"), .active)])
  }

  @Test("a suppression rule cites the part file's own name and line")
  func partFileLocation() throws {
    var t = baseTenant()
    t.fileNames[.suppressions] = ["suppressions/part-0.csv", "suppressions/part-1.csv"]
    t.suppressions = [
      SuppressionRow(line: RowLine.encode(part: 1, line: 12), type: .domain, value: "x.test", expiresAt: nil)
    ]
    let plan = try Planner.plan(t, asOf: asOf).get()
    let e = try #require(plan.enrollments.first)
    guard case .suppression(let m)? = e.evidence(for: e.items[0]) else {
      Issue.record("no suppression evidence")
      return
    }
    let loc = plan.location(RowRef(.suppressions, plan.suppressions[Int(m.rule)].line))
    #expect(loc.file == "suppressions/part-1.csv")
    #expect(loc.line == 12)
  }
}

/// Addresses and the part of the check that fails them.
let emailProblemCases: [(String, EmailProblem?)] = [
  ("a@x.test", nil),
  (String(repeating: "a", count: 250) + "@x.test", .tooLong),
  ("é@x.test", .nonASCII),
  ("ax.test", .noAt),
  ("a@b@x.test", .severalAt),
  ("@x.test", .localPartLength),
  (String(repeating: "a", count: 65) + "@x.test", .localPartLength),
  ("a b@x.test", .localPartCharacter),
  ("a(b@x.test", .localPartCharacter),
  ("a@x..test", .domainLabel),
  ("a@-x.test", .domainLabel),
  ("a@x_y.test", .domainLabel),
  ("a@" + String(repeating: "b", count: 64) + ".test", .domainLabel),
  ("a@localhost", .domainSingleLabel),
  ("a@x.test.", .domainLabel),
]

@Suite("Email problems")
struct EmailProblemTests {
  @Test("the failed part of the check is named", arguments: emailProblemCases)
  func problem(_ address: String, _ expected: EmailProblem?) {
    #expect(Email.problem(address) == expected)
    #expect(Email.isValidNormalized(address) == (expected == nil))
  }
}
