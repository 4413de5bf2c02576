import CSendplanSys
import SendplanModel

/// A SHA-256 digest.
package struct Hash32: Sendable, Hashable {
  var a: UInt64 = 0
  var b: UInt64 = 0
  var c: UInt64 = 0
  var d: UInt64 = 0

  package static let zero = Hash32()

  init() {}

  /// SHA-256 of `bytes`.
  package static func sha256(_ bytes: some Collection<UInt8>) -> Hash32 {
    var h = Hash32()
    let done: Void? = bytes.withContiguousStorageIfAvailable { p in
      h.fill { sendplan_sha256(p.baseAddress, p.count, $0) }
    }
    if done == nil {
      let copy = Array(bytes)
      copy.withUnsafeBufferPointer { p in h.fill { sendplan_sha256(p.baseAddress, p.count, $0) } }
    }
    return h
  }

  /// RFC 6962 leaf hash: SHA-256(0x00 || entry).
  package static func leaf(_ entry: UnsafeRawBufferPointer) -> Hash32 {
    var h = Hash32()
    h.fill { sendplan_sha256_prefixed(0, entry.baseAddress, entry.count, nil, 0, $0) }
    return h
  }

  package static func leaf(_ entry: [UInt8]) -> Hash32 {
    entry.withUnsafeBytes { leaf($0) }
  }

  /// RFC 6962 interior node: SHA-256(0x01 || left || right).
  package static func node(_ l: Hash32, _ r: Hash32) -> Hash32 {
    var h = Hash32()
    var l = l
    var r = r
    withUnsafeBytes(of: &l) { lp in
      withUnsafeBytes(of: &r) { rp in
        h.fill { sendplan_sha256_prefixed(1, lp.baseAddress, 32, rp.baseAddress, 32, $0) }
      }
    }
    return h
  }

  /// Chain link: SHA-256(previous || leaf).
  package static func link(_ previous: Hash32, _ leaf: Hash32) -> Hash32 {
    var h = Hash32()
    var p = previous
    var l = leaf
    withUnsafeBytes(of: &p) { pp in
      withUnsafeBytes(of: &l) { lp in
        h.fill { sendplan_sha256_concat(pp.baseAddress, 32, lp.baseAddress, 32, $0) }
      }
    }
    return h
  }

  private mutating func fill(_ body: (UnsafeMutablePointer<UInt8>) -> Void) {
    withUnsafeMutableBytes(of: &self) { p in
      if let base = p.baseAddress { body(base.assumingMemoryBound(to: UInt8.self)) }
    }
  }

  /// The 32 digest bytes.
  package var bytes: [UInt8] {
    var s = self
    return withUnsafeBytes(of: &s) { Array($0) }
  }

  package init?(bytes: some Collection<UInt8>) {
    guard bytes.count == 32 else { return nil }
    var h = Hash32()
    withUnsafeMutableBytes(of: &h) { p in
      for (i, b) in bytes.enumerated() { p[i] = b }
    }
    self = h
  }

  /// Appends 64 lower-case hex digits.
  package func appendHex(to out: inout [UInt8]) {
    var s = self
    var text = (Hash32.zero, Hash32.zero)
    withUnsafeBytes(of: &s) { p in
      withUnsafeMutableBytes(of: &text) { t in
        for i in 0..<32 {
          let b = p[i]
          let hi = b >> 4
          let lo = b & 15
          t[2 * i] = hi < 10 ? 0x30 + hi : 0x57 + hi
          t[2 * i + 1] = lo < 10 ? 0x30 + lo : 0x57 + lo
        }
      }
    }
    withUnsafeBytes(of: &text) { out.append(contentsOf: $0) }
  }

  package var hex: String {
    var out: [UInt8] = []
    out.reserveCapacity(64)
    appendHex(to: &out)
    return String(decoding: out, as: UTF8.self)
  }

  /// Parses exactly 64 lower-case hex digits.
  package init?(hex: some Collection<UInt8>) {
    guard hex.count == 64, let bytes = Hex.decode(hex) else { return nil }
    self.init(bytes: bytes)
  }

  package init?(hex: String) {
    self.init(hex: Array(hex.utf8))
  }
}

/// The right edge of an RFC 6962 Merkle tree: the roots of its perfect subtrees, largest first.
/// Appending a leaf and computing the root need only this edge, so a year of history is never re-read.
package struct MerkleFrontier: Sendable, Equatable {
  package private(set) var size: Int64 = 0
  package private(set) var nodes: [Hash32] = []

  package init() {}

  package init?(size: Int64, nodes: [Hash32]) {
    guard size >= 0, nodes.count == size.nonzeroBitCount else { return nil }
    self.size = size
    self.nodes = nodes
  }

  package mutating func append(_ leaf: Hash32) {
    var h = leaf
    var k = size
    while k & 1 == 1 {
      h = Hash32.node(nodes.removeLast(), h)
      k >>= 1
    }
    nodes.append(h)
    size += 1
  }

  /// The tree head (MTH); SHA-256 of nothing for the empty tree.
  package var root: Hash32 {
    guard var r = nodes.last else { return Hash32.sha256([UInt8]()) }
    for n in nodes.dropLast().reversed() { r = Hash32.node(n, r) }
    return r
  }

  /// The RFC 6962 definition, recursively; for tests.
  package static func referenceRoot(_ leaves: [Hash32]) -> Hash32 {
    if leaves.isEmpty { return Hash32.sha256([UInt8]()) }
    if leaves.count == 1 { return leaves[0] }
    var k = 1
    while k * 2 < leaves.count { k *= 2 }
    return Hash32.node(referenceRoot(Array(leaves[..<k])), referenceRoot(Array(leaves[k...])))
  }
}

/// Extends a Merkle frontier while hashing records, running node hashes beside record hashes
/// (see `sendplan_merkle` in CSendplanSys). Gives exactly the tree `MerkleFrontier` gives.
final class MerkleBuilder {
  private let state: UnsafeMutablePointer<sendplan_merkle>

  init(_ frontier: MerkleFrontier) {
    state = .allocate(capacity: 1)
    var nodes: [UInt8] = []
    nodes.reserveCapacity(32 * frontier.nodes.count)
    for n in frontier.nodes { nodes.append(contentsOf: n.bytes) }
    nodes.withUnsafeBufferPointer { sendplan_merkle_init(state, UInt64(frontier.size), $0.baseAddress) }
  }

  deinit { state.deallocate() }

  /// SHA-256(0x00 || open || "}" || previous), the record hash, added as the next leaf.
  func record(openBody open: UnsafeRawBufferPointer, previous: Hash32) -> Hash32 {
    var prev = previous
    var h = Hash32.zero
    withUnsafeBytes(of: &prev) { pp in
      withUnsafeMutableBytes(of: &h) { hp in
        sendplan_merkle_record(
          state, open.baseAddress, open.count, pp.baseAddress?.assumingMemoryBound(to: UInt8.self),
          hp.baseAddress?.assumingMemoryBound(to: UInt8.self))
      }
    }
    return h
  }

  /// Adds a leaf hashed elsewhere.
  func append(_ leaf: Hash32) {
    var l = leaf
    withUnsafeBytes(of: &l) { sendplan_merkle_leaf(state, $0.baseAddress?.assumingMemoryBound(to: UInt8.self)) }
  }

  /// The frontier of every leaf so far.
  var frontier: MerkleFrontier {
    var out = [UInt8](repeating: 0, count: 64 * 32)
    let n = out.withUnsafeMutableBufferPointer { sendplan_merkle_finish(state, $0.baseAddress) }
    var nodes: [Hash32] = []
    for i in 0..<n { nodes.append(Hash32(bytes: out[(32 * i)..<(32 * i + 32)]) ?? .zero) }
    return MerkleFrontier(size: Int64(state.pointee.size), nodes: nodes) ?? MerkleFrontier()
  }
}
