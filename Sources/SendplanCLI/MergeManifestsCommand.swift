import ArgumentParser
import SendplanDiagnostics
import SendplanFileSystem
import SendplanJSON
import SendplanRun

#if canImport(Glibc)
  import Glibc
#endif

/// `sendplan merge-manifests OUT...`: one run.json from the run.json files of every shard.
struct MergeManifestsCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "merge-manifests",
    abstract: "Combine the run.json files of the shards of one run (--shard K/N) into the unsharded run.json.",
    discussion: """
      Pass each shard's OUT folder (or its run.json). Every shard 0..N-1 must be there exactly once, from
      the same bundle, --as-of and --run-id. The result is byte-for-byte the run.json an unsharded run
      writes. It goes to --out, replaced atomically, or to standard output.

      \(ExitStatus.helpText)
      """
  )

  @Argument(help: "Shard outputs: OUT folders or run.json files.")
  var shards: [String]

  @Option(name: .long, help: "Write the merged run.json here instead of standard output.")
  var out: String?

  func run() throws {
    let console = Console.current
    var manifests: [(path: String, value: JSONValue)] = []
    do throws(SendplanError) {
      for s in shards {
        let path = s.hasSuffix(".json") ? s : (s.hasSuffix("/") ? s : s + "/") + "run.json"
        guard let bytes = WholeFile.bytes(path) else {
          throw SendplanError(
            .missing, code: "manifest_missing", path: path, message: "cannot read run.json",
            fix: "pass the OUT folder of a finished shard run")
        }
        let value: JSONValue
        do {
          value = try JSONParse.parse(bytes)
        } catch {
          throw SendplanError(
            .badData, code: "manifest_unreadable", path: path,
            message: "not valid JSON at byte \(error.offset): \(error.message)",
            fix: "pass run.json as sendplan wrote it")
        }
        manifests.append((path, value))
      }
      let merged = try ManifestMerge.merge(manifests).render()
      if let out {
        try AtomicFile.replace(out, with: merged, tag: "\(getpid())")
      } else {
        console.write(String(decoding: merged, as: UTF8.self), toError: false)
      }
    } catch {
      console.err("error: \(error)")
      throw Exit(status: ExitStatus.of(error))
    }
  }
}
