import SendplanEngine
import SendplanModel

/// A small valid tenant: one verified identity, one active template, a one-step active
/// sequence, one active enrollment and one recipient. Cases mutate it.
func baseTenant(_ cid: String = "t") -> TenantInput {
  var t = TenantInput(customerID: ID(cid))
  t.identities = [IdentityRow(line: 2, id: ID("i1"), status: .verified)]
  t.templates = [TemplateRow(line: 2, id: ID("tp1"), status: .active)]
  t.sequences = [SequenceRow(line: 2, id: ID("s1"), status: .active, identityID: ID("i1"))]
  t.steps = [StepRow(line: 2, sequenceID: ID("s1"), order: 1, templateID: ID("tp1"))]
  t.enrollments = [
    EnrollmentRow(line: 2, id: ID("e1"), sequenceID: ID("s1"), status: .active, identityID: nil, batchID: nil)
  ]
  t.recipients = [recipient("r1", "a@x.test")]
  return t
}

func recipient(
  _ id: String, _ email: String, enrollment: String = "e1", optedOut: Bool = false, last: Int64 = 0, line: Int = 2
) -> RecipientRow {
  RecipientRow(
    line: line, enrollmentID: ID(enrollment), id: ID(id), email: Text(email), optedOut: optedOut, lastStepSent: last)
}

func suppression(_ type: SuppressionType, _ value: String, expires: String? = nil) -> SuppressionRow {
  SuppressionRow(line: 2, type: type, value: value, expiresAt: expires.flatMap(Timestamp.parse))
}

let asOf = Timestamp.parse("2026-11-27T02:00:00Z") ?? Timestamp(seconds: 0)

/// Plans `t` and returns the only enrollment plan, or fails the test.
func planOne(_ t: TenantInput, at time: Timestamp = asOf) throws -> EnrollmentPlan {
  let plan = try Planner.plan(t, asOf: time).get()
  guard let e = plan.enrollments.first else { throw PlanTestError.noEnrollment }
  return e
}

enum PlanTestError: Error { case noEnrollment }

extension EnrollmentPlan {
  /// (stepOrder, recipientId, status) per item, for compact assertions.
  var summary: [(Int64, String, ItemStatus)] {
    items.map { (steps[Int($0.step)].order, recipients[Int($0.recipient)].id.string, $0.status) }
  }
  var statuses: [ItemStatus] { items.map(\.status) }
}
