/// How much memory a bundle's rows take once read, estimated from its file sizes before reading.
///
/// Measured on generated bundles (docs/decisions.md): the rows, indexes and plans of a tenant take
/// about six times its CSV bytes; gzip files inflate about five times first.
package enum MemoryEstimate {
  package static let perPlainByte = 6
  package static let perCompressedByte = 30
  /// More partitions than this would only add passes over the bundle.
  package static let maxPartitions = 256

  package static func bytes(plain: Int, compressed: Int) -> Int {
    plain.multipliedReportingOverflow(by: perPlainByte).partialValue
      + compressed.multipliedReportingOverflow(by: perCompressedByte).partialValue
  }
}
