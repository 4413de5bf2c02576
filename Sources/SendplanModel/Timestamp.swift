/// An instant parsed from an RFC 3339 `date-time`, kept exactly enough to compare with `asOf`.
package struct Timestamp: Hashable, Comparable, Sendable {
  /// Whole seconds since 1970-01-01T00:00:00Z.
  package let seconds: Int64
  /// Fraction of a second in nanoseconds (digits past the ninth are folded into a non-zero flag).
  package let nanos: Int32
  /// True when the fraction had digits beyond nanoseconds that were not all zero.
  package let subNanoRemainder: Bool

  /// Creates an instant from its parts.
  package init(seconds: Int64, nanos: Int32 = 0, subNanoRemainder: Bool = false) {
    self.seconds = seconds
    self.nanos = nanos
    self.subNanoRemainder = subNanoRemainder
  }

  package static func < (a: Timestamp, b: Timestamp) -> Bool {
    if a.seconds != b.seconds { return a.seconds < b.seconds }
    if a.nanos != b.nanos { return a.nanos < b.nanos }
    return !a.subNanoRemainder && b.subNanoRemainder
  }

  /// What ``parseWholeSeconds(_:)`` found.
  package enum WholeSeconds: Equatable, Sendable {
    case time(Timestamp)
    case notRFC3339
    /// An RFC 3339 time with a fraction, even `.0`: an `asOf` is whole seconds.
    case hasFraction
  }

  /// Parses an `asOf` (`--as-of`, the API's `asOf`): RFC 3339 in whole seconds, without a fraction.
  package static func parseWholeSeconds(_ text: String) -> WholeSeconds {
    guard let t = parse(text) else { return .notRFC3339 }
    guard !text.utf8.contains(UInt8(ascii: ".")), t.nanos == 0, !t.subNanoRemainder else { return .hasFraction }
    return .time(Timestamp(seconds: t.seconds))
  }

  /// Parses the RFC 3339 `date-time` grammar: `T`/`Z` may be lower case, a fraction is
  /// allowed, an offset is required, and `:60` leap seconds are rejected.
  package static func parse(_ text: String) -> Timestamp? {
    let b = Array(text.utf8)
    var i = 0
    func digits(_ n: Int) -> Int? {
      guard i + n <= b.count else { return nil }
      var v = 0
      for k in 0..<n {
        let c = b[i + k]
        guard c >= 0x30 && c <= 0x39 else { return nil }
        v = v * 10 + Int(c - 0x30)
      }
      i += n
      return v
    }
    func expect(_ c: UInt8) -> Bool {
      guard i < b.count, b[i] == c else { return false }
      i += 1
      return true
    }
    guard let year = digits(4), expect(0x2D), let month = digits(2), expect(0x2D), let day = digits(2)
    else { return nil }
    guard i < b.count, b[i] == 0x54 || b[i] == 0x74 else { return nil }
    i += 1
    guard let hour = digits(2), expect(0x3A), let minute = digits(2), expect(0x3A), let second = digits(2)
    else { return nil }
    guard (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year),
      hour <= 23, minute <= 59, second <= 59
    else { return nil }
    var nanos = 0
    var remainder = false
    if i < b.count, b[i] == 0x2E {
      i += 1
      var count = 0
      while i < b.count, b[i] >= 0x30, b[i] <= 0x39 {
        let d = Int(b[i] - 0x30)
        if count < 9 {
          nanos = nanos * 10 + d
        } else if d != 0 {
          remainder = true
        }
        count += 1
        i += 1
      }
      guard count > 0 else { return nil }
      if count < 9 {
        for _ in count..<9 { nanos *= 10 }
      }
    }
    guard i < b.count else { return nil }
    var offset = 0
    if b[i] == 0x5A || b[i] == 0x7A {
      i += 1
    } else if b[i] == 0x2B || b[i] == 0x2D {
      let sign = b[i] == 0x2D ? -1 : 1
      i += 1
      guard let oh = digits(2), expect(0x3A), let om = digits(2), oh <= 23, om <= 59 else { return nil }
      offset = sign * (oh * 3600 + om * 60)
    } else {
      return nil
    }
    guard i == b.count else { return nil }
    let days = daysFromCivil(year: year, month: month, day: day)
    let secs = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offset)
    return Timestamp(seconds: secs, nanos: Int32(nanos), subNanoRemainder: remainder)
  }

  /// Formats whole seconds as `YYYY-MM-DDTHH:MM:SSZ` in UTC.
  package var rfc3339: String {
    let days = Int(floorDiv(seconds, 86_400))
    let rem = Int(seconds - Int64(days) * 86_400)
    let (y, m, d) = Timestamp.civilFromDays(days)
    func pad(_ v: Int, _ w: Int) -> String {
      let s = String(v)
      return String(repeating: "0", count: max(0, w - s.count)) + s
    }
    return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(rem / 3600, 2)):\(pad(rem / 60 % 60, 2)):\(pad(rem % 60, 2))Z"
  }

  /// The compact form used in derived run ids: `YYYYMMDDTHHMMSSZ`.
  package var compact: String {
    rfc3339.filter { $0 != "-" && $0 != ":" }
  }

  private func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
  }

  static func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

  static func daysIn(month: Int, year: Int) -> Int {
    switch month {
    case 2: return isLeap(year) ? 29 : 28
    case 4, 6, 9, 11: return 30
    default: return 31
    }
  }

  // Howard Hinnant's days_from_civil.
  static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let mp = (month + 9) % 12
    let doy = (153 * mp + 2) / 5 + day - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146_097 + doe - 719_468
  }

  static func civilFromDays(_ z0: Int) -> (Int, Int, Int) {
    let z = z0 + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
    let y = yoe + era * 400
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let d = doy - (153 * mp + 2) / 5 + 1
    let m = mp < 10 ? mp + 3 : mp - 9
    return (m <= 2 ? y + 1 : y, m, d)
  }
}
