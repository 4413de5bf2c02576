import SendplanEngine
import Testing

let allStates: [QueueState] = [
  .queued, .dryRunPlanned, .wouldSend, .skipped(.suppressed), .failedValidation(.invalidStep),
  .paused(.batchPaused),
]

func isLegal(_ from: QueueState, _ to: QueueState) -> Bool {
  switch (from, to) {
  case (.queued, .dryRunPlanned), (.dryRunPlanned, .wouldSend), (.dryRunPlanned, .skipped): return true
  case (_, .failedValidation), (_, .paused): return true
  default: return false
  }
}

struct Transition: Sendable, CustomTestStringConvertible {
  let from: QueueState
  let to: QueueState
  var testDescription: String { "\(from) → \(to)" }
}

/// Walks an item into `state` along legal transitions.
func item(in state: QueueState) throws -> QueueItem {
  var q = QueueItem()
  switch state {
  case .queued: break
  case .dryRunPlanned: try q.transition(to: .dryRunPlanned)
  case .wouldSend, .skipped:
    try q.transition(to: .dryRunPlanned)
    try q.transition(to: state)
  case .failedValidation, .paused: try q.transition(to: state)
  }
  return q
}

@Test(
  "every transition pair is allowed or rejected as the contract says",
  arguments: allStates.flatMap { f in allStates.map { Transition(from: f, to: $0) } })
func transition(_ t: Transition) throws {
  var q = try item(in: t.from)
  #expect(q.state == t.from)
  if isLegal(t.from, t.to) {
    try q.transition(to: t.to)
    #expect(q.state == t.to)
  } else {
    #expect(throws: TransitionError(from: t.from, to: t.to)) { try q.transition(to: t.to) }
    #expect(q.state == t.from)
  }
}

@Test func typedStepsOnlyOfferLegalTransitions() {
  #expect(Queued().planned().wouldSend() == .wouldSend)
  #expect(Queued().planned().skip(.optedOut) == .skipped(.optedOut))
  #expect(Queued().pause(.enrollmentPaused) == .paused(.enrollmentPaused))
  #expect(Queued().failValidation(.invalidStep) == .failedValidation(.invalidStep))
  #expect(QueueState.dryRunPlanned.itemStatus == nil)
}
