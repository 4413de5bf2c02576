import SendplanModel

/// A quick proof that a tenant has no duplicate keys, so `validate` need not build a
/// ``TenantIndex`` (which groups and copies every row) only to find none.
///
/// It answers `true` only when it is certain: every key column is strictly increasing in the
/// order the rows arrived (the common shape of an export), or else has no repeat in a set.
/// Recipients must come in runs of one enrollment with strictly increasing recipient ids, and
/// the runs' enrollments strictly increasing. Anything else answers `false`, and the caller
/// builds the index, which reports exactly what it always did.
enum DuplicateCheck {
  static func hasNone(_ t: TenantInput) -> Bool {
    distinct(t.identities) { $0.id } && distinct(t.templates) { $0.id } && distinct(t.sequences) { $0.id }
      && distinct(t.batches) { $0.id } && distinct(t.enrollments) { $0.id } && recipientsDistinct(t.recipients)
  }

  /// Byte-wise order of two ids (-1, 0, 1), reading their bytes in place: `ID`'s own operators
  /// copy both strings, which costs more than the comparison on millions of rows.
  @inline(__always)
  static func order(_ a: ID, _ b: ID) -> Int {
    let r = a.string.utf8.withContiguousStorageIfAvailable { pa in
      b.string.utf8.withContiguousStorageIfAvailable { pb in
        let n = min(pa.count, pb.count)
        for k in 0..<n where pa[k] != pb[k] { return pa[k] < pb[k] ? -1 : 1 }
        return pa.count == pb.count ? 0 : pa.count < pb.count ? -1 : 1
      }
    }
    if let r, let r { return r }
    return a < b ? -1 : a == b ? 0 : 1
  }

  /// Whether two ids are equal; identical string values (most repeats of a short id) are
  /// equal without reading their bytes.
  @inline(__always)
  static func same(_ a: ID, _ b: ID) -> Bool {
    let x = unsafeBitCast(a.string, to: (UInt64, UInt64).self)
    let y = unsafeBitCast(b.string, to: (UInt64, UInt64).self)
    return (x.0 == y.0 && x.1 == y.1) || order(a, b) == 0
  }

  /// Strictly increasing ids are distinct without hashing; otherwise a set decides.
  @inline(__always)
  private static func distinct<Row>(_ rows: [Row], _ key: (Row) -> ID) -> Bool {
    if rows.count < 2 { return true }
    var increasing = true
    rows.withUnsafeBufferPointer { p in
      for k in 1..<p.count where order(key(p[k - 1]), key(p[k])) >= 0 {
        increasing = false
        break
      }
    }
    if increasing { return true }
    var seen = Set<ID>()
    seen.reserveCapacity(rows.count)
    for r in rows where !seen.insert(key(r)).inserted { return false }
    return true
  }

  private static func recipientsDistinct(_ rows: [RecipientRow]) -> Bool {
    // Through the buffer, reading a row's ids does not copy (and retain) the whole row.
    rows.withUnsafeBufferPointer { p in
      var k = 0
      while k < p.count {
        if k > 0 && order(p[k - 1].enrollmentID, p[k].enrollmentID) >= 0 { return false }
        var j = k + 1
        while j < p.count && same(p[j - 1].enrollmentID, p[j].enrollmentID) {
          guard order(p[j - 1].id, p[j].id) < 0 else { return false }
          j += 1
        }
        k = j
      }
      return true
    }
  }
}
