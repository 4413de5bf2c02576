import SendplanDiagnostics
import SendplanJSON
import SendplanModel

/// Combines the run.json files of the shards of one run into the run.json an unsharded run writes.
package enum ManifestMerge {
  /// `manifests` pairs each file's path (for messages) with its parsed content.
  ///
  /// The shards must come from the same bundle, `--as-of` and run id, use the same shard count, and
  /// cover every shard exactly once. Tenants are merged in customer-id byte order and totals re-summed;
  /// the `shard` member is dropped.
  package static func merge(_ manifests: [(path: String, value: JSONValue)]) throws(SendplanError) -> JSONValue {
    guard let first = manifests.first else {
      throw invalid("", "no run.json given", "pass the OUT folder (or run.json) of every shard")
    }
    guard let count = first.value["shard"]?["count"]?.intValue else {
      throw invalid(first.path, "this run.json is not from a sharded run (no \"shard\")", "pass shard outputs only")
    }
    var seen: [Int64: String] = [:]
    for (path, m) in manifests {
      guard m["formatVersion"]?.intValue == Manifest.formatVersion else {
        throw invalid(path, "unsupported formatVersion", "merge run.json files written by this sendplan version")
      }
      guard let shard = m["shard"], let k = shard["index"]?.intValue, shard["count"]?.intValue == count else {
        throw invalid(
          path, "its shard count differs from \(first.path)'s (\(count))", "run every shard with the same N")
      }
      if let other = seen[k] {
        throw invalid(path, "shard \(k) appears twice (also \(other))", "pass each shard's output once")
      }
      seen[k] = path
      for key in ["runId", "asOf", "inputs", "ignoredFiles", "tool"] where m[key] != first.value[key] {
        throw invalid(
          path, "its \(key) differs from \(first.path)'s",
          "merge shards of one run: same bundle, as-of time, run id and sendplan version")
      }
    }
    let missing = (0..<count).filter { seen[$0] == nil }
    guard missing.isEmpty else {
      throw invalid(
        first.path, "shard(s) \(missing.map(String.init).joined(separator: ", ")) of \(count) missing",
        "wait for every shard to finish, or re-run the missing ones")
    }
    var tenants: [(id: String, value: JSONValue)] = []
    var totals: JSONValue = .object([:])
    for (path, m) in manifests {
      guard let list = m["tenants"]?.arrayValue, let t = m["totals"] else {
        throw invalid(path, "no tenants or totals", "pass run.json files written by a sendplan run")
      }
      for v in list {
        guard let id = v["customerId"]?.stringValue else { throw invalid(path, "a tenant has no customerId", "") }
        tenants.append((id, v))
      }
      totals = sum(totals, t)
    }
    tenants.sort { $0.id.utf8.lexicographicallyPrecedes($1.id.utf8) }
    for (a, b) in zip(tenants, tenants.dropFirst()) where a.id == b.id {
      throw invalid(
        first.path, "customer \(a.id.debugDescription) appears in two shards",
        "shards must be cut with the same N from the same bundle")
    }
    guard case .object(var doc) = first.value else { throw invalid(first.path, "not a JSON object", "") }
    doc["shard"] = nil
    doc["tenants"] = .array(tenants.map(\.value))
    doc["totals"] = totals
    doc["status"] = .string(totals["tenantsFailed"]?.intValue == 0 ? "ok" : "tenants_failed")
    return .object(doc)
  }

  /// Adds two count trees key by key; a key missing on one side counts as absent, not zero.
  static func sum(_ a: JSONValue, _ b: JSONValue) -> JSONValue {
    switch (a, b) {
    case (.int(let x), .int(let y)): return .int(x + y)
    case (.object(let x), .object(let y)):
      return .object(x.merging(y) { l, r in sum(l, r) })
    default: return b
    }
  }

  static func invalid(_ path: String, _ message: String, _ fix: String) -> SendplanError {
    SendplanError(.badData, code: "manifest_mismatch", path: path, message: message, fix: fix)
  }
}
