import Foundation
import SendplanTestSupport
import Testing

/// Runs curl and returns the HTTP status, or 0 when the server did not answer.
func curlStatus(_ args: [String]) throws -> Int {
  let p = Process()
  p.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
  p.arguments = ["-s", "-o", "/dev/null", "-w", "%{http_code}"] + args
  let out = Pipe()
  p.standardOutput = out
  try p.run()
  let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
  p.waitUntilExit()
  return Int(text) ?? 0
}

@Suite struct ServeProcessTests {
  /// Waits on the server's own log lines (start, reload, failed reload), never on the clock, then
  /// probes once: after "SIGHUP: bundle reloaded" the new bundle is in use, after "SIGHUP reload failed"
  /// the previous one still is.
  @Test func sighupReloadsAndABrokenBundleKeepsTheOldOne() throws {
    try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/curl"))
    let f = try ServerFixture()
    let port = 20000 + Int(getpid() % 20000)
    let p = Process()
    p.executableURL = try builtExecutable("sendplan-serve")
    p.arguments = ["--input", f.bundle.path, "--audit-dir", f.audit, "--port", String(port)]
    let err = Pipe()
    p.standardError = err
    try p.run()
    defer { if p.isRunning { p.terminate() } }
    let log = LineReader(err.fileHandleForReading)
    let base = "http://127.0.0.1:\(port)"
    let probe = ["-X", "POST", "-H", "X-Customer-Id: initech", base + "/api/enrollments/e1/dry-run"]
    try #require(log.waitFor("Server started and listening"), "\(log.lines)")
    #expect(try curlStatus(probe) == 404, "no tenant initech yet")
    let e = f.bundle.appendingPathComponent("enrollments.csv")
    let original = try String(contentsOf: e, encoding: .utf8)
    try (original + "initech,e1,s-missing,active,,\n").write(to: e, atomically: true, encoding: .utf8)
    kill(p.processIdentifier, SIGHUP)
    // Either outcome of a reload is logged, so a wrong one fails the test instead of leaving it waiting.
    let outcomes = ["SIGHUP: bundle reloaded", "SIGHUP reload failed; still serving the previous bundle"]
    try #require(log.waitFor(anyOf: outcomes) == outcomes[0], "\(log.lines)")
    #expect(try curlStatus(probe) == 422, "SIGHUP did not load the new tenant")
    try "not,a,valid,header\n".write(to: e, atomically: true, encoding: .utf8)
    kill(p.processIdentifier, SIGHUP)
    #expect(log.waitFor(anyOf: outcomes) == outcomes[1], "\(log.lines)")
    #expect(try curlStatus(probe) == 422, "the previous bundle must stay in use")
    p.terminate()
    let rest = log.rest()
    p.waitUntilExit()
    #expect(p.terminationStatus == 0, "SIGTERM stops it cleanly: \(rest)")
  }
}
