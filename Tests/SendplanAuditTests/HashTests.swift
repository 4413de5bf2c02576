import Crypto
import Testing

@testable import SendplanAudit

@Suite struct HashTests {
  static func hex(_ s: String) -> [UInt8] {
    var out: [UInt8] = []
    var i = s.startIndex
    while i < s.endIndex {
      let j = s.index(i, offsetBy: 2)
      out.append(UInt8(s[i..<j], radix: 16) ?? 0)
      i = j
    }
    return out
  }

  /// The RFC 6962 reference leaves and the roots of the trees over their first n (certificate-transparency test data).
  static let leaves = [
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f",
  ]
  static let roots = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
  ]

  @Test func emptyTreeIsHashOfNothing() {
    #expect(MerkleFrontier().root.hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
  }

  @Test(arguments: 1...8)
  func rfc6962KnownAnswers(n: Int) {
    var f = MerkleFrontier()
    var hashes: [Hash32] = []
    for l in Self.leaves.prefix(n) {
      let h = Hash32.leaf(Self.hex(l))
      f.append(h)
      hashes.append(h)
    }
    #expect(f.root.hex == Self.roots[n - 1])
    #expect(MerkleFrontier.referenceRoot(hashes).hex == Self.roots[n - 1])
  }

  @Test func frontierMatchesReferenceForManySizes() {
    var f = MerkleFrontier()
    var hashes: [Hash32] = []
    for i in 0..<200 {
      let h = Hash32.leaf(Array("leaf \(i)".utf8))
      f.append(h)
      hashes.append(h)
      #expect(f.root == MerkleFrontier.referenceRoot(hashes), "size \(i + 1)")
      #expect(MerkleFrontier(size: f.size, nodes: f.nodes) == f)
    }
  }

  /// The pipelined builder (record and node hashes run side by side) against the plain frontier,
  /// from several starting sizes, with record bodies of every length up to past the fast path's buffer.
  @Test(arguments: [0, 1, 2, 3, 7, 8, 13, 64, 1000])
  func pipelinedTreeMatchesFrontier(start: Int) {
    var plain = MerkleFrontier()
    for i in 0..<start { plain.append(Hash32.leaf(Array("old \(i)".utf8))) }
    let built = MerkleBuilder(plain)
    var chainA = Hash32.sha256(Array("seed".utf8))
    var chainB = chainA
    var body: [UInt8] = []
    for i in 0..<600 {
      body.append(UInt8(0x41 + i % 26))
      chainA = body.withUnsafeBytes { built.record(openBody: $0, previous: chainA) }
      chainB = body.withUnsafeBytes { RecordEncoder.recordHash(openBody: $0, previous: chainB) }
      #expect(chainA == chainB, "record \(i)")
      plain.append(chainB)
      if i % 97 == 0 || i == 599 {
        #expect(built.frontier == plain, "after \(i + 1) records")
      }
    }
    built.append(chainA)
    plain.append(chainA)
    #expect(built.frontier == plain)
    #expect(built.frontier.root == plain.root)
  }

  /// The C SHA-256 (SHA extensions or portable) against swift-crypto, over every length up to 300 bytes.
  @Test func sha256MatchesSwiftCrypto() {
    var bytes: [UInt8] = []
    for len in 0...300 {
      #expect(Hash32.sha256(bytes).bytes == Array(SHA256.hash(data: bytes)), "length \(len)")
      bytes.append(UInt8(truncatingIfNeeded: len &* 31 &+ 7))
    }
    let big = [UInt8](repeating: 0x61, count: 1_000_000)
    #expect(Hash32.sha256(big).bytes == Array(SHA256.hash(data: big)))
    #expect(
      Hash32.sha256(Array("abc".utf8)).hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
  }

  @Test func nodeAndLinkAreTheDocumentedConcatenations() {
    let a = Hash32.sha256(Array("a".utf8))
    let b = Hash32.sha256(Array("b".utf8))
    #expect(Hash32.node(a, b).bytes == Array(SHA256.hash(data: [1] + a.bytes + b.bytes)))
    #expect(Hash32.link(a, b).bytes == Array(SHA256.hash(data: a.bytes + b.bytes)))
    #expect(Hash32.leaf(Array("x".utf8)).bytes == Array(SHA256.hash(data: [0, 0x78])))
    #expect(Hash32(hex: a.hex) == a)
    #expect(Hash32(hex: "XYZ") == nil)
  }

  @Test(arguments: [[UInt8](), [0], [1, 2], [1, 2, 3], Array("hello world".utf8)])
  func base64RoundTrip(bytes: [UInt8]) {
    #expect(Base64.decode(Base64.encode(bytes)) == bytes)
  }

  @Test func recordLinesRoundTripAndRejectEdits() throws {
    var enc = RecordEncoder(chain: .zero, frontier: MerkleFrontier())
    enc.header(segment: 1, customerID: "ac\"me\n<", runID: "r1", timestamp: "2026-11-27T02:00:00Z")
    enc.event(.dryRunPlanned, enrollment: "e1", step: 1, count: 2)
    enc.item(.skipped(.optedOut), enrollmentMember: RecordEncoder.enrollmentMember("e1"), step: 1, recipient: "r\u{1}")
    enc.event(.failedValidation, enrollment: "e2", reason: "sequence_not_found", errors: ["sequence_not_found"])
    let scan = SegmentScan.read(enc.out, number: 1, customerID: "ac\"me\n<", chain: .zero, frontier: MerkleFrontier())
    #expect(scan.problem == nil)
    #expect(scan.records == 4)
    #expect(scan.chain == enc.chain)
    #expect(scan.frontier == enc.frontier)
    #expect(scan.counts == [.dryRunPlanned: 1, .skipped: 1, .failedValidation: 1])
    // A non-canonical spelling of the same record is refused.
    let spaced = enc.out.split(separator: 0x0A).map(Array.init)
    var edited = spaced[0] + [0x0A]
    edited += Array(String(decoding: spaced[1], as: UTF8.self).replacing("{\"n\":1,", with: "{\"n\": 1,").utf8) + [0x0A]
    let bad = SegmentScan.read(edited, number: 1, customerID: "ac\"me\n<", chain: .zero, frontier: MerkleFrontier())
    guard case .bad(let line, _, _, _)? = bad.problem else {
      Issue.record("expected a bad record")
      return
    }
    #expect(line == 2)
  }
}
