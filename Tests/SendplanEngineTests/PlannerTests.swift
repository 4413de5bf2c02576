import SendplanEngine
import SendplanModel
import Testing

@Test func duplicateRecipientFollowsByteOrderOfRecipientIds() throws {
  var t = baseTenant()
  // "R9" < "a1" < "r1" byte-wise; Unicode-aware ordering would not change this, so add
  // a precomposed/decomposed pair that String equality would merge.
  t.recipients = [
    recipient("r1", "same@x.test", line: 2),
    recipient("a1", "SAME@x.test", line: 3),
    recipient("R9", " same@x.test", optedOut: true, line: 4),
    recipient("\u{E9}", "other@x.test", line: 5),
    recipient("e\u{301}", "other@x.test", line: 6),
  ]
  let e = try planOne(t)
  // String keys would merge the two spellings of "é", so key by ID.
  let byID = Dictionary(uniqueKeysWithValues: e.summary.map { (ID($0.1), $0.2) })
  #expect(byID[ID("R9")] == .skipped(.optedOut))
  #expect(byID[ID("a1")] == .skipped(.duplicateRecipient))
  #expect(byID[ID("r1")] == .skipped(.duplicateRecipient))
  // "e\u{301}" (0x65...) sorts before "\u{E9}" (0xC3...), so the precomposed one is the duplicate.
  #expect(byID[ID("e\u{301}")] == .wouldSend)
  #expect(byID[ID("\u{E9}")] == .skipped(.duplicateRecipient))
  #expect(byID.count == 5)
  #expect(e.recipients.map(\.id) == ["R9", "a1", "e\u{301}", "r1", "\u{E9}"].map(ID.init))
}

@Test func duplicateCountsEarlierRecipientPastEveryStepOrSuppressed() throws {
  var t = baseTenant()
  t.recipients = [
    recipient("r1", "a@x.test", last: 9),
    recipient("r2", "a@x.test"),
    recipient("r3", "b@x.test"),
    recipient("r4", "b@x.test"),
  ]
  t.suppressions = [suppression(.email, "b@x.test")]
  let e = try planOne(t)
  #expect(e.summary.map(\.1) == ["r2", "r3", "r4"])
  #expect(e.statuses == [.skipped(.duplicateRecipient), .skipped(.suppressed), .skipped(.suppressed)])
}

@Test func invalidEmailsNeverMakeDuplicates() throws {
  var t = baseTenant()
  t.recipients = [recipient("r1", "bad"), recipient("r2", "BAD")]
  let e = try planOne(t)
  #expect(e.statuses == [.skipped(.invalidEmail), .skipped(.invalidEmail)])
}

@Test func itemsOrderedByStepThenRecipientAndOnlyStepsAfterLastSent() throws {
  var t = baseTenant()
  t.templates.append(TemplateRow(line: 3, id: ID("tp2"), status: .active))
  t.steps = [
    StepRow(line: 4, sequenceID: ID("s1"), order: 10, templateID: ID("tp2")),
    StepRow(line: 3, sequenceID: ID("s1"), order: 2, templateID: ID("tp1")),
  ]
  t.recipients = [recipient("b", "b@x.test", last: 2), recipient("a", "a@x.test", last: 0)]
  let e = try planOne(t)
  #expect(e.summary.map { "\($0.0)/\($0.1)" } == ["2/a", "10/a", "10/b"])
}

@Test func invalidStepHasNoTemplateButOthersKeepTheirs() throws {
  var t = baseTenant()
  t.steps.append(StepRow(line: 3, sequenceID: ID("s1"), order: 1, templateID: ID("tp1")))
  t.steps.append(StepRow(line: 4, sequenceID: ID("s1"), order: 2, templateID: ID("missing")))
  let e = try planOne(t)
  #expect(e.steps.map(\.templateID) == [nil, ID("missing")])
  #expect(e.statuses == [.failedValidation(.invalidStep), .failedValidation(.templateNotFound)])
  #expect(e.identityID == ID("i1"))
}

@Test func completedAndCancelledAreNotPlanned() throws {
  var t = baseTenant()
  t.enrollments.append(
    EnrollmentRow(line: 3, id: ID("e2"), sequenceID: ID("s1"), status: .completed, identityID: nil, batchID: nil))
  t.enrollments.append(
    EnrollmentRow(line: 4, id: ID("e0"), sequenceID: ID("s1"), status: .cancelled, identityID: nil, batchID: nil))
  let plan = try Planner.plan(t, asOf: asOf).get()
  #expect(plan.enrollments.map(\.enrollmentID) == [ID("e1")])
  #expect(plan.notPlanned == ["completed": 1, "cancelled": 1])
}

@Test func orphansAreCountedNotJoined() throws {
  var t = baseTenant()
  t.recipients.append(recipient("r1", "a@x.test", enrollment: "ghost"))
  t.steps.append(StepRow(line: 9, sequenceID: ID("ghost-seq"), order: 1, templateID: ID("tp1")))
  let plan = try Planner.plan(t, asOf: asOf).get()
  #expect(plan.orphans.recipients.count == 1)
  #expect(plan.orphans.steps.count == 1)
  #expect(plan.counts.items == 1)
}

@Test func stepsOfAMissingSequenceDoNotCreateIt() throws {
  var t = baseTenant()
  t.sequences = []
  t.enrollments[0].identityID = ID("i1")
  let plan = try Planner.plan(t, asOf: asOf).get()
  #expect(plan.enrollments[0].errors == [.sequenceNotFound])
  #expect(plan.orphans.steps.count == 1)
}

@Test func sameIdsInTwoTenantsArePlannedIndependently() throws {
  var a = baseTenant("a")
  let b = baseTenant("b")
  a.suppressions = [suppression(.email, "a@x.test")]
  a.identities[0].status = .verified
  let pa = try planOne(a)
  let pb = try planOne(b)
  #expect(pa.statuses == [.skipped(.suppressed)])
  #expect(pb.statuses == [.wouldSend])
}

@Test func duplicateKeysFailTheTenantNamingTheLaterLine() {
  var t = baseTenant()
  t.fileNames[.recipients] = ["recipients.csv"]
  t.recipients.append(recipient("r1", "b@x.test", line: 7))
  t.templates.append(TemplateRow(line: 5, id: ID("tp1"), status: .draft))
  guard case .failure(let f) = Planner.plan(t, asOf: asOf) else {
    Issue.record("expected a failure")
    return
  }
  #expect(
    f.issues.map { "\($0.file):\($0.line):\($0.code)" } == [
      "recipients.csv:7:duplicate_key", "templates:5:duplicate_key",
    ])
}

@Test func idsDifferingOnlyInNormalisationAreDistinct() throws {
  var t = baseTenant()
  t.templates = [TemplateRow(line: 2, id: ID("\u{E9}"), status: .active)]
  t.steps[0].templateID = ID("e\u{301}")
  let e = try planOne(t)
  #expect(e.statuses == [.failedValidation(.templateNotFound)])
}

/// Hundreds of rules and recipients, so the byte-keyed tables grow well past their first size;
/// the statuses must equal a plain `Set<String>` model of rule 4.
@Test func suppressionAndDuplicateLookupsAgreeWithASetModelAtSize() throws {
  var t = baseTenant()
  t.suppressions =
    (0..<150).map { suppression(.email, "S\($0)@X.test") } + (0..<150).map { suppression(.domain, " d\($0).test") }
    + [suppression(.domain, "p.test")]
  var expected: [String: ItemStatus] = [:]
  var seen: Set<String> = []
  var rows: [RecipientRow] = []
  for k in 0..<400 {
    let id = "r" + String(1000 + k)
    let email: String
    switch k % 4 {
    case 0: email = "s\(k / 4 * 3 % 200)@x.test"
    case 1: email = "u@D\(k % 200).test"
    case 2: email = "u\(k)@sub.p.test"
    default: email = "dup\(k % 10)@y.test"
    }
    let normal = email.lowercased()
    let domain = String(normal.split(separator: "@")[1])
    let suppressed =
      (k % 4 == 0 && k / 4 * 3 % 200 < 150) || (k % 4 == 1 && k % 200 < 150) || domain.hasSuffix("p.test")
    let first = seen.insert(normal).inserted
    expected[id] = suppressed ? .skipped(.suppressed) : first ? .wouldSend : .skipped(.duplicateRecipient)
    rows.append(recipient(id, email, line: 2 + k))
  }
  t.recipients = rows
  let e = try planOne(t)
  #expect(e.items.count == 400)
  for (_, id, status) in e.summary { #expect(status == expected[id], "\(id)") }
  #expect(
    e.evidence(ofRecipient: 2).map { if case .suppression(let m) = $0 { m.kind == .parentDomain } else { false } }
      == true)
}
