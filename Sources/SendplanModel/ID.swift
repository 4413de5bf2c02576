/// An opaque identifier from the export, compared, hashed and ordered by its UTF-8 bytes.
///
/// Swift's `String` equality uses Unicode canonical equivalence, which would merge ids that
/// the platform treats as different. Every join and sort in sendplan goes through this type.
package struct ID: Hashable, Comparable, Sendable, CustomStringConvertible {
  /// The id exactly as it appeared in the export.
  package let string: String

  /// Wraps `string` without any trimming or case folding.
  package init(_ string: String) {
    self.string = string
  }

  package var description: String { string }

  package static func == (lhs: ID, rhs: ID) -> Bool {
    ByteOrder.equal(lhs.string, rhs.string)
  }

  package static func < (lhs: ID, rhs: ID) -> Bool {
    ByteOrder.less(lhs.string, rhs.string)
  }

  package func hash(into hasher: inout Hasher) {
    var copy = string
    copy.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
  }
}

/// Byte-wise comparison of strings, independent of Unicode normalisation.
package enum ByteOrder {
  /// True when both strings have identical UTF-8 bytes.
  package static func equal(_ a: String, _ b: String) -> Bool {
    var a = a
    var b = b
    return a.withUTF8 { pa in
      b.withUTF8 { pb in
        pa.count == pb.count && (pa.count == 0 || memcmpBytes(pa, pb, pa.count) == 0)
      }
    }
  }

  /// Whether the `n` bytes at `a` and `b` are equal, eight at a time and without a call: the keys
  /// compared for every row are short, and a call to `memcmp` cost more than the comparison.
  @inlinable @inline(__always)
  package static func equal(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, count n: Int) -> Bool {
    var k = 0
    while k + 8 <= n {
      if UnsafeRawPointer(a + k).loadUnaligned(as: UInt64.self)
        != UnsafeRawPointer(b + k).loadUnaligned(as: UInt64.self)
      {
        return false
      }
      k += 8
    }
    while k < n {
      if a[k] != b[k] { return false }
      k += 1
    }
    return true
  }

  /// True when `a` sorts before `b` comparing UTF-8 bytes as unsigned values.
  package static func less(_ a: String, _ b: String) -> Bool {
    var a = a
    var b = b
    return a.withUTF8 { pa in
      b.withUTF8 { pb in
        let n = min(pa.count, pb.count)
        let c = n == 0 ? 0 : memcmpBytes(pa, pb, n)
        return c != 0 ? c < 0 : pa.count < pb.count
      }
    }
  }

  @inline(__always)
  private static func memcmpBytes(
    _ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>, _ n: Int
  ) -> Int {
    var i = 0
    while i < n {
      let x = a[i]
      let y = b[i]
      if x != y { return x < y ? -1 : 1 }
      i += 1
    }
    return 0
  }
}
