import Foundation
import SendplanCLI
import SendplanTestSupport
import Testing

let sampleAsOf = "2026-11-27T02:00:00Z"

/// Runs the CLI in process with a capturing console.
func sendplan(_ args: [String]) -> (code: Int32, out: String, err: String) {
  let console = Console(capturing: true)
  let code = Console.$current.withValue(console) { SendplanCommand.execute(args) }
  return (code, console.capturedOut, console.capturedErr)
}

/// A fresh temporary folder inside the test process's scratch folder.
func tempDir(_ label: String = "t") throws -> URL {
  try scratchFolder("cli-\(label)")
}

/// Copies the sample bundle, applying `edits` (file name to new content, nil to delete).
func bundle(from source: String = sampleBundle, _ edits: [String: String?] = [:]) throws -> URL {
  let dir = try tempDir("bundle")
  for name in try FileManager.default.contentsOfDirectory(atPath: source) {
    try FileManager.default.copyItem(
      atPath: source + "/" + name, toPath: dir.appendingPathComponent(name).path)
  }
  for (name, content) in edits {
    let url = dir.appendingPathComponent(name)
    try? FileManager.default.removeItem(at: url)
    if let content { try Data(content.utf8).write(to: url) }
  }
  return dir
}

/// Every file under `dir` with its bytes, keyed by relative path.
func tree(_ dir: URL) throws -> [String: Data] {
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

func readJSON(_ url: URL) throws -> [String: Any] {
  let obj = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
  return obj as? [String: Any] ?? [:]
}

/// The name of a customer's folder under `out/tenants` (sample customer ids are plain words).
func tenantFolder(_ out: URL, _ customer: String) throws -> String? {
  try FileManager.default.contentsOfDirectory(atPath: out.path + "/tenants").first { $0.hasPrefix(customer + "-") }
}
