import SendplanEngine
import SendplanModel
import SendplanReport
import Testing

/// report.html's item detail: which items of an enrollment are listed when not all fit.
@Suite struct ItemDetailTests {
  /// `statuses` spells one item per character: W WouldSend, S Skipped, F FailedValidation, P Paused.
  @Test(arguments: [
    ("WWWW", 10, "WWWW"),
    ("WWWWSWF", 3, "WSF"),
    ("WWWWSWF", 2, "SF"),
    ("SWWWWWF", 4, "SWWF"),
    ("WWWW", 2, "WW"),
    ("PPPW", 2, "PP"),
    ("WSW", 0, ""),
  ])
  func itemsThatNeedExplainingAreListedFirstInPlanOrder(_ statuses: String, _ budget: Int, _ listed: String) {
    let items = statuses.enumerated().map { k, c -> PlannedItem in
      let status: ItemStatus
      switch c {
      case "S": status = .skipped(.suppressed)
      case "F": status = .failedValidation(.templateNotFound)
      case "P": status = .paused(.enrollmentPaused)
      default: status = .wouldSend
      }
      return PlannedItem(recipient: Int32(k), step: 0, status: status)
    }
    let e = EnrollmentPlan(
      enrollmentID: ID("e1"), status: .active, errors: [], identityID: nil,
      steps: [PlannedStep(order: 1, templateID: ID("t1"), failure: nil)], recipients: [], items: items)
    let got = HTMLReport.listedItems(e, budget: budget)
    #expect(String(got.map { Array(statuses)[Int($0.recipient)] }) == listed)
    #expect(got.map(\.recipient) == got.map(\.recipient).sorted())
  }
}
