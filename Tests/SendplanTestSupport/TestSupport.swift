import Foundation

/// The repository root, found from this file's path.
public let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .deletingLastPathComponent()

/// The sample bundle shipped in docs/.
public let sampleBundle = repoRoot.appendingPathComponent("docs/sample-bundle").path

/// This test process's scratch folder, removed when the process exits so runs do not pile up in /tmp.
public let scratchRoot: URL = {
  let u = FileManager.default.temporaryDirectory.appendingPathComponent("sendplan-tests-\(getpid())")
  try? FileManager.default.removeItem(at: u)
  atexit {
    let p = FileManager.default.temporaryDirectory.appendingPathComponent("sendplan-tests-\(getpid())")
    try? FileManager.default.removeItem(at: p)
  }
  return u
}()

/// A fresh, empty folder inside `scratchRoot`.
public func scratchFolder(_ label: String) throws -> URL {
  let u = scratchRoot.appendingPathComponent("\(label)-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
  return u
}

public struct ExecutableNotBuilt: Error, CustomStringConvertible {
  public let name: String
  public var description: String { "\(name) is not built; run `swift build` first (scripts/test does)" }
}

/// A product of this package built beside the tests (`sendplan`, `sendplan-serve`).
public func builtExecutable(_ name: String) throws -> URL {
  var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
  // The test bundle may be a folder (`.xctest`) or a plain executable beside the products.
  if dir.lastPathComponent.hasSuffix(".xctest") { dir = dir.deletingLastPathComponent() }
  let candidates = [dir, repoRoot.appendingPathComponent(".build/debug")].map { $0.appendingPathComponent(name) }
  guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
    throw ExecutableNotBuilt(name: name)
  }
  return found
}

/// The golden files: the sample bundle's run outputs, reports and diff outputs.
public let goldenFolder = repoRoot.appendingPathComponent("Tests/SendplanCLITests/Golden")

/// Said by every golden test that fails.
public let regenHint = "if the change is intended, run scripts/regen-golden and review the diff"

/// Every file under `dir` with its bytes, keyed by relative path.
public func tree(_ dir: URL) throws -> [String: Data] {
  var out: [String: Data] = [:]
  let base = dir.standardizedFileURL.path
  guard let e = FileManager.default.enumerator(atPath: base) else { return out }
  for case let rel as String in e {
    var isDir: ObjCBool = false
    let full = base + "/" + rel
    if FileManager.default.fileExists(atPath: full, isDirectory: &isDir), !isDir.boolValue {
      out[rel] = try Data(contentsOf: URL(fileURLWithPath: full))
    }
  }
  return out
}

/// A copy of the bundle at `source` in a fresh scratch folder, with `edits` applied (file name to new
/// content, nil to delete).
public func bundleCopy(from source: String = sampleBundle, _ edits: [String: String?] = [:]) throws -> URL {
  let dir = try scratchFolder("bundle")
  for name in try FileManager.default.contentsOfDirectory(atPath: source) {
    try FileManager.default.copyItem(atPath: source + "/" + name, toPath: dir.appendingPathComponent(name).path)
  }
  for (name, content) in edits {
    let url = dir.appendingPathComponent(name)
    try? FileManager.default.removeItem(at: url)
    if let content { try Data(content.utf8).write(to: url) }
  }
  return dir
}

/// Reads a child process's output line by line, blocking until each line arrives; nothing here
/// depends on time.
public final class LineReader {
  let handle: FileHandle
  var buffer: [UInt8] = []
  var atEnd = false
  /// Every line read so far.
  public private(set) var lines: [String] = []

  public init(_ handle: FileHandle) { self.handle = handle }

  /// The next line without its newline, or nil once the writer has closed its end.
  public func next() -> String? {
    while true {
      if let nl = buffer.firstIndex(of: 0x0A) {
        let line = String(decoding: buffer[..<nl], as: UTF8.self)
        buffer.removeSubrange(...nl)
        lines.append(line)
        return line
      }
      if atEnd {
        guard !buffer.isEmpty else { return nil }
        let line = String(decoding: buffer, as: UTF8.self)
        buffer = []
        lines.append(line)
        return line
      }
      let chunk = handle.availableData
      if chunk.isEmpty { atEnd = true } else { buffer += chunk }
    }
  }

  /// Reads until a line contains one of `texts` and returns that text; nil at the end of the output or
  /// after `maxLines` lines.
  public func waitFor(anyOf texts: [String], maxLines: Int = 500) -> String? {
    for _ in 0..<maxLines {
      guard let line = next() else { return nil }
      if let hit = texts.first(where: { line.contains($0) }) { return hit }
    }
    return nil
  }

  /// Reads until a line contains `text`; false at the end of the output or after `maxLines` lines.
  public func waitFor(_ text: String, maxLines: Int = 500) -> Bool {
    waitFor(anyOf: [text], maxLines: maxLines) != nil
  }

  /// Everything read so far and the rest of the output, up to its end.
  public func rest() -> String {
    while next() != nil {}
    return lines.joined(separator: "\n")
  }
}

/// A dry-runs.jsonl file holding `lines`, in a fresh scratch folder.
public func dryRunsFile(_ lines: [String]) throws -> String {
  let url = try scratchFolder("jsonl").appendingPathComponent("dry-runs.jsonl")
  try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: url)
  return url.path
}

/// One item of a dry-run line, keys in the order sendplan writes them.
public func dryRunItem(
  _ r: String, _ step: Int, _ status: String, reason: String? = nil, tpl: String? = "t1", ident: String? = "i1",
  email: String = "a@x.test"
) -> String {
  var parts = ["\"email\":\"\(email)\""]
  if let ident { parts.append("\"identityId\":\"\(ident)\"") }
  if let reason { parts.append("\"reason\":\"\(reason)\"") }
  parts.append("\"recipientId\":\"\(r)\"")
  parts.append("\"status\":\"\(status)\"")
  parts.append("\"stepOrder\":\(step)")
  if let tpl { parts.append("\"templateId\":\"\(tpl)\"") }
  return "{" + parts.joined(separator: ",") + "}"
}

/// One dry-run line (an enrollment) with its items and enrollment-level errors.
public func dryRunLine(_ id: String, _ items: [String], errors: [String] = [], at: String = "2026-11-27T02:00:00Z")
  -> String
{
  let e = errors.isEmpty ? "" : ",\"errors\":[" + errors.map { "\"\($0)\"" }.joined(separator: ",") + "]"
  return
    "{\"data\":{\"enrollmentId\":\"\(id)\"\(e),\"items\":[\(items.joined(separator: ","))],\"plannedAt\":\"\(at)\"}}"
}
