/// How much of one record a reader may hold (docs/contract.md, "Input limits", our extension).
///
/// A CSV record, a CSV field or a JSONL line larger than `maxRecordBytes`, or a CSV record with more
/// than `maxFields` fields, is a structural error naming the file and the record's first line. The
/// reader stops there, so it never holds more than about one limit's worth of a record (plus one
/// read chunk), whether the file is plain or gzip-compressed.
package struct ReadLimits: Sendable, Equatable {
  /// The default record size limit: 1 MiB.
  package static let defaultMaxRecordBytes = 1 << 20
  /// The default field-count limit per CSV record.
  package static let defaultMaxFields = 10_000

  /// Bytes of one record's content: a CSV record's field bytes plus one per field separator, or a
  /// JSONL line without its line feed.
  package var maxRecordBytes: Int
  /// Fields in one CSV record.
  package var maxFields: Int

  package init(maxRecordBytes: Int = defaultMaxRecordBytes, maxFields: Int = defaultMaxFields) {
    self.maxRecordBytes = max(1, maxRecordBytes)
    self.maxFields = max(1, maxFields)
  }

  package static let `default` = ReadLimits()
}

extension ReadLimits {
  /// The largest `--max-record-bytes` accepted: 1 GiB.
  package static let maxRecordBytesCeiling = 1 << 30

  /// `--max-record-bytes`: `4096`, `512K`, `1M`, `1G` (also `KiB`, `MiB`, `GiB`; powers of 1024),
  /// from 1 byte to 1 GiB; nil when malformed or out of range.
  package static func parseRecordBytes(_ text: String) -> Int? {
    var digits = Substring(text)
    var unit = 1
    for (suffix, scale) in [
      ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30),
    ]
    where digits.hasSuffix(suffix) {
      digits = digits.dropLast(suffix.count)
      unit = scale
      break
    }
    guard !digits.isEmpty, digits.count <= 10, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(digits)
    else { return nil }
    let (bytes, overflow) = n.multipliedReportingOverflow(by: unit)
    guard !overflow, (1...maxRecordBytesCeiling).contains(bytes) else { return nil }
    return bytes
  }
}
