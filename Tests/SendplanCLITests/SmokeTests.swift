import Foundation
import SendplanTestSupport
import Testing

/// Runs the built `sendplan` binary once, as a user would.
@Test func builtBinaryRunsTheSample() throws {
  let binary = try builtBinary()
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
