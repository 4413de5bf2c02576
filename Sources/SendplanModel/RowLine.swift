/// A row's place in its table as one integer: the part file's index in the high bits and the
/// 1-based line in that part in the low bits. A table held in one file is part 0, so its rows'
/// lines are plain line numbers; ordering by the integer orders rows as if the parts were one file.
package enum RowLine {
  /// Lines per part the encoding allows (2^40, far beyond any export).
  static let shift = 40
  /// The first line number the encoding cannot hold.
  package static let lineLimit = 1 << shift

  package static func encode(part: Int, line: Int) -> Int { part << shift | line }

  /// The part file's index.
  package static func part(_ v: Int) -> Int { v >> shift }

  /// The 1-based line within the part.
  package static func line(_ v: Int) -> Int { v & (1 << shift - 1) }
}
