/// RFC 9162 §2.1.3 inclusion proofs and §2.1.4 consistency proofs over RFC 6962 Merkle trees.
///
/// Proofs are made from the leaf hashes (`prove…`, the recursive definitions of §2.1.3.1 and
/// §2.1.4.1) and checked without them (`verify…`, the algorithms of §2.1.3.2 and §2.1.4.2). Hashes
/// are listed bottom-up, as in the RFC and in Go's `sumdb/tlog`.
package enum MerkleProof {
  /// MTH(D[lo..<hi]).
  static func root(_ leaves: UnsafeBufferPointer<Hash32>, _ lo: Int, _ hi: Int) -> Hash32 {
    if hi == lo { return Hash32.sha256([UInt8]()) }
    if hi - lo == 1 { return leaves[lo] }
    let k = split(hi - lo)
    return Hash32.node(root(leaves, lo, lo + k), root(leaves, lo + k, hi))
  }

  /// The largest power of two smaller than n (n > 1).
  static func split(_ n: Int) -> Int {
    var k = 1
    while k << 1 < n { k <<= 1 }
    return k
  }

  /// PATH(m, D[0..<size]): the audit path of leaf `index` in the tree of the first `size` leaves.
  package static func inclusion(_ leaves: [Hash32], index: Int, size: Int) -> [Hash32]? {
    guard index >= 0, index < size, size <= leaves.count else { return nil }
    return leaves.withUnsafeBufferPointer { p in
      var out: [Hash32] = []
      func path(_ m: Int, _ lo: Int, _ hi: Int) {
        guard hi - lo > 1 else { return }
        let k = split(hi - lo)
        if m < k {
          path(m, lo, lo + k)
          out.append(root(p, lo + k, hi))
        } else {
          path(m - k, lo + k, hi)
          out.append(root(p, lo, lo + k))
        }
      }
      path(index, 0, size)
      return out
    }
  }

  /// PROOF(m, D[0..<size]): the consistency proof from the tree of the first `old` leaves to the one of `size`.
  package static func consistency(_ leaves: [Hash32], old: Int, size: Int) -> [Hash32]? {
    guard old >= 0, old <= size, size <= leaves.count else { return nil }
    if old == 0 || old == size { return [] }
    return leaves.withUnsafeBufferPointer { p in
      var out: [Hash32] = []
      func subproof(_ m: Int, _ lo: Int, _ hi: Int, _ b: Bool) {
        let n = hi - lo
        if m == n {
          if !b { out.append(root(p, lo, hi)) }
          return
        }
        let k = split(n)
        if m <= k {
          subproof(m, lo, lo + k, b)
          out.append(root(p, lo + k, hi))
        } else {
          subproof(m - k, lo + k, hi, false)
          out.append(root(p, lo, lo + k))
        }
      }
      subproof(old, 0, size, true)
      return out
    }
  }

  /// RFC 9162 §2.1.3.2: the root the audit path leads to from `leaf` at `index` in a tree of `size`,
  /// or nil when the path has the wrong length for that index and size.
  package static func rootFromInclusion(leaf: Hash32, index: Int64, size: Int64, path: [Hash32]) -> Hash32? {
    guard index >= 0, index < size else { return nil }
    var fn = index
    var sn = size - 1
    var r = leaf
    for p in path {
      if sn == 0 { return nil }
      if fn & 1 == 1 || fn == sn {
        r = Hash32.node(p, r)
        if fn & 1 == 0 {
          while fn & 1 == 0 && fn != 0 {
            fn >>= 1
            sn >>= 1
          }
        }
      } else {
        r = Hash32.node(r, p)
      }
      fn >>= 1
      sn >>= 1
    }
    return sn == 0 ? r : nil
  }

  /// The number of hashes an inclusion proof of `index` in a tree of `size` has.
  package static func inclusionLength(index: Int64, size: Int64) -> Int {
    var n = 0
    var fn = index
    var sn = size - 1
    while sn != 0 {
      if fn & 1 == 1 || fn == sn {
        if fn & 1 == 0 {
          while fn & 1 == 0 && fn != 0 {
            fn >>= 1
            sn >>= 1
          }
        }
      }
      fn >>= 1
      sn >>= 1
      n += 1
    }
    return n
  }

  /// RFC 9162 §2.1.4.2: whether `path` proves the tree (`old`, `oldRoot`) is a prefix of (`size`, `newRoot`).
  package static func verifyConsistency(
    old: Int64, oldRoot: Hash32, size: Int64, newRoot: Hash32, path: [Hash32]
  ) -> Bool {
    guard old >= 0, old <= size else { return false }
    if old == size { return path.isEmpty && oldRoot == newRoot }
    if old == 0 { return path.isEmpty }
    var proof = path
    if old & (old - 1) == 0 { proof.insert(oldRoot, at: 0) }
    guard !proof.isEmpty else { return false }
    var fn = old - 1
    var sn = size - 1
    while fn & 1 == 1 {
      fn >>= 1
      sn >>= 1
    }
    var fr = proof[0]
    var sr = proof[0]
    for c in proof.dropFirst() {
      if sn == 0 { return false }
      if fn & 1 == 1 || fn == sn {
        fr = Hash32.node(c, fr)
        sr = Hash32.node(c, sr)
        if fn & 1 == 0 {
          while fn & 1 == 0 && fn != 0 {
            fn >>= 1
            sn >>= 1
          }
        }
      } else {
        sr = Hash32.node(sr, c)
      }
      fn >>= 1
      sn >>= 1
    }
    return fr == oldRoot && sr == newRoot && sn == 0
  }
}
