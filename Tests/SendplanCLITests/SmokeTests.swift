import Foundation
import Testing

/// Runs the built `sendplan` binary once, as a user would.
@Test func builtBinaryRunsTheSample() throws {
  let testBinary = URL(fileURLWithPath: CommandLine.arguments[0])
  var dir = testBinary.deletingLastPathComponent()
  // The test bundle may be a folder (`.xctest`) or a plain executable beside the products.
  if dir.lastPathComponent.hasSuffix(".xctest") { dir = dir.deletingLastPathComponent() }
  let candidates = [dir, repoRoot.appendingPathComponent(".build/debug")].map { $0.appendingPathComponent("sendplan") }
  let binary = try #require(candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) })
  let out = try tempDir("smoke").appendingPathComponent("out")
  let p = Process()
  p.executableURL = binary
  p.arguments = ["run", "--input", sampleBundle, "--out", out.path, "--as-of", sampleAsOf]
  let err = Pipe()
  p.standardError = err
  try p.run()
  let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
  p.waitUntilExit()
  #expect(p.terminationStatus == 0, "\(text)")
  #expect(text.contains("2 tenants planned, 0 failed"))
  #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("run.json").path))
}
