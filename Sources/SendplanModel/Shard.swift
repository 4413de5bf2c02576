import Crypto

/// One of `count` disjoint slices of a bundle's tenants, for spreading a run over several machines.
///
/// A tenant belongs to shard `SHA-256(customer id as UTF-8)[0..<8]`, read as a big-endian unsigned
/// 64-bit integer, modulo `count`. The rule depends on nothing but the id, so every machine agrees.
package struct Shard: Sendable, Equatable {
  /// 0-based, as Kubernetes' JOB_COMPLETION_INDEX and Slurm's array index are.
  package let index: Int
  package let count: Int

  /// The most shards accepted; far more than tenants on any platform we know of.
  package static let maxCount = 65536

  package init?(index: Int, count: Int) {
    guard count >= 1, count <= Shard.maxCount, index >= 0, index < count else { return nil }
    self.index = index
    self.count = count
  }

  /// Parses `K/N`, with 0 <= K < N.
  package init?(_ text: String) {
    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }),
      parts.allSatisfy({ $0.count <= 6 }), let k = Int(parts[0]), let n = Int(parts[1])
    else { return nil }
    self.init(index: k, count: n)
  }

  /// The shard (of `count`) that holds `customerID`.
  package static func index(of customerID: ID, count: Int) -> Int {
    slot(of: customerID, word: 0, count: count)
  }

  /// The partition (of `count`) that holds `customerID` within a run: the digest's next 8 bytes, so
  /// partitions split every shard evenly.
  package static func partition(of customerID: ID, count: Int) -> Int {
    slot(of: customerID, word: 1, count: count)
  }

  /// 8-byte word `word` of SHA-256(customer id), big-endian, modulo `count`.
  static func slot(of customerID: ID, word: Int, count: Int) -> Int {
    let digest = SHA256.hash(data: Array(customerID.string.utf8))
    var v: UInt64 = 0
    for b in digest.dropFirst(8 * word).prefix(8) { v = v << 8 | UInt64(b) }
    return Int(v % UInt64(count))
  }

  package func contains(_ customerID: ID) -> Bool {
    Shard.index(of: customerID, count: count) == index
  }

  /// `K/N`.
  package var description: String { "\(index)/\(count)" }
}
