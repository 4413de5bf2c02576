import Foundation
import SendplanTestSupport
import Testing

@testable import SendplanAudit

@Suite struct MerkleProofTests {
  static func h(_ s: String) -> Hash32 { Hash32(hex: s) ?? .zero }

  static let ctLeaves = HashTests.leaves.map { Hash32.leaf(HashTests.hex($0)) }

  /// certificate-transparency's RFC 6962 proof vectors: 1-based leaf, tree size, audit path.
  static let inclusionVectors: [(Int, Int, [String])] = [
    (
      1, 8,
      [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
      ]
    ),
    (
      6, 8,
      [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
      ]
    ),
    (3, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
      2, 5,
      [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      ]
    ),
  ]

  /// The consistency vectors: first size, second size, proof.
  static let consistencyVectors: [(Int, Int, [String])] = [
    (
      1, 8,
      [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
      ]
    ),
    (
      6, 8,
      [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
      ]
    ),
    (
      2, 5,
      [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      ]
    ),
    (
      6, 7,
      [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
      ]
    ),
  ]

  @Test func rfc6962InclusionVectors() {
    for (leaf, size, want) in Self.inclusionVectors {
      let got = MerkleProof.inclusion(Self.ctLeaves, index: leaf - 1, size: size)
      #expect(got?.map(\.hex) == want, "leaf \(leaf) of \(size)")
      let root = MerkleProof.root(Array(Self.ctLeaves.prefix(size)))
      #expect(root.hex == HashTests.roots[size - 1])
      #expect(
        MerkleProof.rootFromInclusion(
          leaf: Self.ctLeaves[leaf - 1], index: Int64(leaf - 1), size: Int64(size), path: want.map(Self.h)) == root)
    }
  }

  @Test func rfc6962ConsistencyVectors() {
    for (first, second, want) in Self.consistencyVectors {
      #expect(MerkleProof.consistency(Self.ctLeaves, old: first, size: second)?.map(\.hex) == want)
      #expect(
        MerkleProof.verifyConsistency(
          old: Int64(first), oldRoot: Self.h(HashTests.roots[first - 1]), size: Int64(second),
          newRoot: Self.h(HashTests.roots[second - 1]), path: want.map(Self.h)))
    }
  }

  /// Every proof for every size up to 64 leaves, in the text `scripts/merkle-proofs.py` writes from
  /// RFC 9162 on its own; both must hash to the digest in scripts/merkle-proofs.sha256 (CI runs the script).
  @Test func everyProofUpTo64LeavesMatchesTheIndependentScript() throws {
    let leaves = (0..<64).map { Hash32.leaf(Array(String($0).utf8)) }
    var text = ""
    for n in 1...64 {
      let root = MerkleProof.root(Array(leaves.prefix(n)))
      for m in 0..<n {
        let p = try #require(MerkleProof.inclusion(leaves, index: m, size: n))
        #expect(MerkleProof.inclusionLength(index: Int64(m), size: Int64(n)) == p.count)
        #expect(MerkleProof.rootFromInclusion(leaf: leaves[m], index: Int64(m), size: Int64(n), path: p) == root)
        if n > 1 {
          #expect(
            MerkleProof.rootFromInclusion(leaf: leaves[(m + 1) % n], index: Int64(m), size: Int64(n), path: p) != root)
        }
        text += "I \(n) \(m) \(p.map(\.hex).joined(separator: ","))\n"
      }
      for m in 1...n {
        let p = try #require(MerkleProof.consistency(leaves, old: m, size: n))
        let old = MerkleProof.root(Array(leaves.prefix(m)))
        #expect(MerkleProof.verifyConsistency(old: Int64(m), oldRoot: old, size: Int64(n), newRoot: root, path: p))
        if m < n {
          var bad = p
          if !bad.isEmpty { bad[bad.count - 1] = leaves[0] }
          #expect(!MerkleProof.verifyConsistency(old: Int64(m), oldRoot: old, size: Int64(n), newRoot: root, path: bad))
          #expect(
            !MerkleProof.verifyConsistency(
              old: Int64(m), oldRoot: Hash32.sha256(Array("x".utf8)), size: Int64(n), newRoot: root, path: p))
        }
        text += "C \(m) \(n) \(p.map(\.hex).joined(separator: ","))\n"
      }
    }
    let digestFile = try String(
      contentsOf: repoRoot.appendingPathComponent("scripts/merkle-proofs.sha256"), encoding: .utf8)
    let want = String(digestFile.prefix(64))
    #expect(Hash32.sha256(Array(text.utf8)).hex == want)
  }
}
