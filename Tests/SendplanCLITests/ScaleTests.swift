import Foundation
import SendplanTestSupport
import Testing

/// Memory budgets, partitions and shards change how a run is carried out, never what it writes.
@Suite struct ScaleTests {
  /// The tenant folders of a run, keyed `tenants/<folder>/<file>`.
  func tenantFiles(_ out: URL) throws -> [String: Data] {
    try tree(out).filter { $0.key.hasPrefix("tenants/") }
  }

  func run(_ input: URL, _ out: URL, _ extra: [String]) -> Int32 {
    sendplan(["run", "--input", input.path, "--out", out.path, "--as-of", sampleAsOf, "--quiet"] + extra).code
  }

  @Test("outputs are byte-identical whatever the memory limit", arguments: ["none", "1G", "4K", "1"])
  func memoryLimit(_ limit: String) throws {
    let input = try multiTenantBundle(copies: 9)
    let plain = try tempDir().appendingPathComponent("out")
    let limited = try tempDir().appendingPathComponent("out")
    #expect(run(input, plain, ["--memory-limit", "none"]) == 0)
    #expect(run(input, limited, ["--memory-limit", limit]) == 0)
    #expect(try tree(limited) == tree(plain))
  }

  @Test func aTinyLimitSaysItPartitions() throws {
    let input = try multiTenantBundle(copies: 4)
    let out = try tempDir().appendingPathComponent("out")
    let r = sendplan(["run", "--input", input.path, "--out", out.path, "--as-of", sampleAsOf, "--memory-limit", "1"])
    #expect(r.code == 0)
    #expect(r.err.contains("partitions of tenants, one at a time"), "\(r.err)")
    #expect(r.err.contains("over the memory limit"), "a tenant alone over the limit is named: \(r.err)")
  }

  @Test("shards together write exactly the unsharded tenant folders", arguments: [1, 3, 7])
  func shards(_ n: Int) throws {
    let input = try multiTenantBundle(copies: 9)
    let plain = try tempDir().appendingPathComponent("out")
    #expect(run(input, plain, []) == 0)
    var merged: [String: Data] = [:]
    for k in 0..<n {
      let out = try tempDir().appendingPathComponent("out")
      #expect(run(input, out, ["--shard", "\(k)/\(n)", "--memory-limit", k % 2 == 0 ? "none" : "1"]) == 0)
      for (path, data) in try tenantFiles(out) {
        #expect(merged.updateValue(data, forKey: path) == nil, "\(path) in two shards")
      }
    }
    #expect(merged == (try tenantFiles(plain)))
  }

  @Test func aTableSplitIntoPartFilesPlansTheSame() throws {
    let input = try multiTenantBundle(copies: 5)
    let split = try tempDir("split")
    for name in try FileManager.default.contentsOfDirectory(atPath: input.path) {
      try FileManager.default.copyItem(at: input.appendingPathComponent(name), to: split.appendingPathComponent(name))
    }
    // recipients.csv becomes recipients/part-0000{0,1,2}.csv, each with the header.
    let whole = try String(contentsOf: split.appendingPathComponent("recipients.csv"), encoding: .utf8)
    var lines = whole.split(separator: "\n").map(String.init)
    let header = lines.removeFirst()
    try FileManager.default.removeItem(at: split.appendingPathComponent("recipients.csv"))
    let dir = split.appendingPathComponent("recipients")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let third = (lines.count + 2) / 3
    for k in 0..<3 {
      let part = lines.dropFirst(k * third).prefix(third)
      try ([header] + part).joined(separator: "\n").appending("\n")
        .write(to: dir.appendingPathComponent("part-0000\(k).csv"), atomically: true, encoding: .utf8)
    }
    let a = try tempDir().appendingPathComponent("out")
    let b = try tempDir().appendingPathComponent("out")
    #expect(run(input, a, []) == 0)
    #expect(run(split, b, []) == 0)
    // Reports list the input files, so they differ by design; everything planned is identical.
    let planned = { (t: [String: Data]) in t.filter { !$0.key.contains("/report.") } }
    #expect(planned(try tenantFiles(b)) == planned(try tenantFiles(a)))
    #expect(try tenantFiles(b).count == tenantFiles(a).count)
  }

  /// Including a size whose bytes do not fit in an Int: refused, not trapped on.
  @Test(arguments: ["lots", "999999999999G", "0", "-1G"])
  func badMemoryLimitIsAUsageError(_ limit: String) {
    let r = sendplan(["run", "--input", sampleBundle, "--out", "/nonexistent/out", "--memory-limit", limit])
    #expect(r.code == 64 && r.err.contains("--memory-limit"), "\(r.err)")
  }
}
