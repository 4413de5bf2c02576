import Foundation
import SendplanTestSupport
import Testing

/// The power-loss simulator (`scripts/power-cut.py`, run by `scripts/crash-test --power-loss`) on the
/// sample bundle, a second night over an audit folder and OUT from the first.
@Suite(.serialized) struct PowerLossTests {
  func powerCut(_ extra: [String]) throws -> (status: Int32, output: String) {
    let work = try scratchFolder("power-loss")
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments =
      [
        "python3", repoRoot.appendingPathComponent("scripts/power-cut.py").path, "--bin",
        try builtExecutable("sendplan").path, "--bundle", sampleBundle, "--work", work.path, "--scenario", "second",
        "--max-states", "4",
      ] + extra
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    try p.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    return (p.terminationStatus, output)
  }

  /// Leaving out the audit commit's last syncfs (the one after the heads are swapped in) must be
  /// caught: a cut after the run reported its events sealed then loses them.
  @Test func aRemovedFsyncIsCaught() throws {
    let r = try powerCut(["--skip-sync", "commit", "--expect-loss"])
    #expect(r.status == 0, "\(r.output)")
    #expect(r.output.contains("the left-out sync was caught"), "\(r.output)")
    #expect(!r.output.contains(" 0 committed events lost"), "\(r.output)")
  }

  /// Leaving out the sync of OUT's parent folder after the swap must be caught: OUT reverts after
  /// the run said it published.
  @Test func aRemovedFolderSyncOfThePublishIsCaught() throws {
    let r = try powerCut(["--skip-sync", "publish", "--expect-loss"])
    #expect(r.status == 0, "\(r.output)")
    #expect(r.output.contains("OUT was published but is not the new OUT"), "\(r.output)")
  }
}
