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
