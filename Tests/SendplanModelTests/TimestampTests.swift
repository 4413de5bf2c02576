import SendplanModel
import Testing

@Suite struct TimestampTests {
  @Test(
    arguments: [
      ("2026-11-27T02:00:00Z", Int64(1_795_744_800)),
      ("2026-11-27t02:00:00z", 1_795_744_800),
      ("2026-11-27T03:30:00+01:30", 1_795_744_800),
      ("2026-11-26T21:00:00-05:00", 1_795_744_800),
      ("2024-02-29T00:00:00Z", 1_709_164_800),
      ("1970-01-01T00:00:00.5Z", 0),
    ])
  func timestamps(_ s: String, _ seconds: Int64) {
    #expect(Timestamp.parse(s)?.seconds == seconds)
  }

  @Test(
    arguments: [
      "2026-11-27 02:00:00Z", "2026-11-27T02:00:00", "2026-11-27T02:00:60Z", "2025-02-29T00:00:00Z",
      "2026-13-01T00:00:00Z", "2026-11-27T24:00:00Z", "2026-11-27T02:00:00.Z", "2026-11-27T02:00:00+0100",
      "2026-11-27T02:00Z", "26-11-27T02:00:00Z",
    ])
  func badTimestamps(_ s: String) {
    #expect(Timestamp.parse(s) == nil)
  }

  @Test func timestampFormatsAsUTC() {
    #expect(Timestamp.parse("2026-11-27T03:30:00+01:30")?.rfc3339 == "2026-11-27T02:00:00Z")
    #expect(Timestamp(seconds: -1).rfc3339 == "1969-12-31T23:59:59Z")
  }

  @Test func compactFormIsTheOneOfDerivedRunIds() {
    #expect(Timestamp.parse("2026-11-27T02:00:00Z")?.compact == "20261127T020000Z")
    #expect(Timestamp(seconds: 0).compact == "19700101T000000Z")
  }

  /// An `asOf` is RFC 3339 in whole seconds: any fraction is refused, even one of zeros.
  @Test(arguments: [
    ("2026-11-27T02:00:00Z", Timestamp.WholeSeconds.time(Timestamp(seconds: 1_795_744_800))),
    ("2026-11-27T03:30:00+01:30", .time(Timestamp(seconds: 1_795_744_800))),
    ("2026-11-27T02:00:00.0Z", .hasFraction), ("2026-11-27T02:00:00.5Z", .hasFraction),
    ("2026-11-27", .notRFC3339), ("", .notRFC3339), ("2026-11-27T02:00:60Z", .notRFC3339),
  ])
  func asOfIsWholeSeconds(_ text: String, _ expected: Timestamp.WholeSeconds) {
    #expect(Timestamp.parseWholeSeconds(text) == expected)
  }
}
