import SendplanModel
import Testing

@Suite struct ShardTests {
  @Test func shardHashIsTheDocumentedOne() {
    #expect(Shard.index(of: ID("acme"), count: 7) == 2)
    #expect(Shard.index(of: ID("acme"), count: 1000) == 872)
    #expect(Shard.index(of: ID("globex"), count: 1000) == 599)
    #expect(Shard.index(of: ID("acme"), count: 1) == 0)
  }

  @Test(arguments: [("0/4", 0, 4), ("3/4", 3, 4), ("0/1", 0, 1), ("007/010", 7, 10), ("65535/65536", 65535, 65536)])
  func parsesKOfN(text: String, index: Int, count: Int) {
    let s = Shard(text)
    #expect(s == Shard(index: index, count: count))
    #expect(s?.index == index && s?.count == count)
    #expect(s?.description == "\(index)/\(count)")
  }

  @Test(arguments: ["4/4", "-1/4", "1/0", "a/b", "1", "1/2/3", " 1/2", "1/2 ", "1/99999999", "/2", "1/", "", "0/65537"])
  func rejectsAnythingElse(text: String) {
    #expect(Shard(text) == nil)
  }

  @Test(arguments: [1, 2, 3, 7, 1000])
  func everyIdIsInExactlyOneShard(count: Int) throws {
    let ids = ["acme", "globex", "initech", "", "é", "ACME", "x/y"].map(ID.init)
    for id in ids {
      var owners: [Int] = []
      for k in 0..<count {
        let shard = try #require(Shard(index: k, count: count))
        if shard.contains(id) { owners.append(k) }
      }
      #expect(owners == [Shard.index(of: id, count: count)], "\(id)")
    }
  }
}
