import Foundation
import SendplanDiagnostics
import SendplanJSON
import SendplanModel
import SendplanRun
import SendplanTestSupport
import Testing

@Suite struct ManifestMergeTests {
  /// run.json of the whole sample and of each of its `count` shards.
  static func runs(count: Int) throws -> (whole: [UInt8], shards: [(path: String, value: JSONValue)]) {
    let dir = try scratchFolder("merge")
    let whole = try RunPipeline(
      options: sampleOptions(out: dir.appendingPathComponent("whole").path), observer: NoObserver(), clock: { 0 }
    ).run()
    var shards: [(path: String, value: JSONValue)] = []
    for k in 0..<count {
      var options = sampleOptions(out: dir.appendingPathComponent("shard-\(k)").path)
      options.shard = Shard(index: k, count: count)
      let recorder = Recorder()
      let r = try RunPipeline(options: options, observer: recorder, clock: { 0 }).run()
      #expect(Array(recorder.names.prefix(3)) == ["bundleRead", "shardSelected", "planning"])
      #expect(r.tenants.allSatisfy { Shard.index(of: $0.customerID, count: count) == k })
      shards.append((options.out + "/run.json", try JSONParse.parse(r.manifest)))
    }
    return (whole.manifest, shards)
  }

  @Test(arguments: [1, 2, 3])
  func shardsMergeIntoTheUnshardedManifest(count: Int) throws {
    let (whole, shards) = try Self.runs(count: count)
    #expect(try ManifestMerge.merge(shards).render() == whole)
    #expect(try ManifestMerge.merge(Array(shards.reversed())).render() == whole, "in any order")
  }

  @Test func incompleteOrRepeatedShardsAreRefused() throws {
    let (whole, shards) = try Self.runs(count: 3)
    func refusal(_ manifests: [(path: String, value: JSONValue)]) -> String {
      let e = #expect(throws: SendplanError.self) { try ManifestMerge.merge(manifests) }
      #expect(e?.code == "manifest_mismatch" && e?.kind == .badData)
      return e?.message ?? ""
    }
    #expect(refusal([shards[0], shards[2]]).contains("shard(s) 1 of 3 missing"))
    #expect(refusal([shards[0], shards[0], shards[1]]).contains("appears twice"))
    #expect(refusal([("whole/run.json", try JSONParse.parse(whole))]).contains("not from a sharded run"))
    #expect(refusal([]).contains("no run.json given"))
  }
}
