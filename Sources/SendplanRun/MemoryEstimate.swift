/// How much memory a bundle's rows take once read, estimated from its file sizes before reading.
///
/// Two estimates (docs/decisions.md, "Memory between partitions"). From the sizes alone: the rows of a
/// tenant take at most about six times its CSV bytes (short rows are the worst case, where a row's
/// fixed size outweighs its bytes), and gzip files inflate about five times first. With the plain
/// files' line counts: a fixed cost per row plus a cost per byte, which holds for short rows and
/// long ids alike and is about four times closer on a typical export.
package enum MemoryEstimate {
  package static let perPlainByte = 6
  package static let perCompressedByte = 30
  /// The counted estimate: a row's own size, its share of the array and table it sits in, and the
  /// per-tenant indexes; and each byte kept as text, including the heap header of an id too long
  /// to be stored inline.
  package static let perRow = 96
  /// Three halves: 1.5 bytes per CSV byte, in integers.
  package static let perCountedByteTimesTwo = 3
  /// More partitions than this would only add passes over the bundle.
  package static let maxPartitions = 256

  package static func bytes(plain: Int, compressed: Int) -> Int {
    plain.multipliedReportingOverflow(by: perPlainByte).partialValue
      + compressed.multipliedReportingOverflow(by: perCompressedByte).partialValue
  }

  /// The estimate once the plain files' lines are counted.
  package static func bytes(plain: Int, plainLines: Int, compressed: Int) -> Int {
    plainLines.multipliedReportingOverflow(by: perRow).partialValue
      + plain.multipliedReportingOverflow(by: perCountedByteTimesTwo).partialValue / 2
      + compressed.multipliedReportingOverflow(by: perCompressedByte).partialValue
  }
}
