import Foundation
import SendplanDiagnostics
import SendplanFileSystem
import SendplanTestSupport
import Synchronization
import Testing

@Suite struct FaultPointsTests {
  /// Each write, rename and sync of the file helpers is one step; `failAt` fails exactly that one, as a full disk.
  @Test(arguments: 1...6)
  func failAtFailsThatStepAsAFullDisk(step: Int) throws {
    let dir = try scratchFolder("faults").path
    let faults = FaultPoints(failAt: step)
    var failure: SendplanError?
    do throws(SendplanError) {
      try FS.writeFile(dir + "/a.tmp", Array("a".utf8), faults: faults)  // step 1
      try FS.rename(dir + "/a.tmp", dir + "/a", faults: faults)  // steps 2 and 3
      try FS.sync(dir + "/a", faults: faults)  // steps 4 and 5
      try FS.truncate(dir + "/a", to: 0, faults: faults)  // step 6
    } catch {
      failure = error
    }
    let e = try #require(failure)
    #expect(e.kind == .io && e.code == "write_failed")
    #expect(e.message.contains("No space left on device") && e.message.contains("(injected at step \(step))"))
    #expect(faults.steps == step, "nothing runs after the failed step")
  }

  @Test func killAtCallsTheCallerAndCountingGoesOn() throws {
    let dir = try scratchFolder("faults").path
    let killed = Mutex<[String]>([])
    let faults = FaultPoints(killAt: 2) { n, what in killed.withLock { $0.append("\(n) \(what)") } }
    try FS.writeFile(dir + "/a", [1, 2, 3], faults: faults)
    try FS.writeFile(dir + "/b", [4], faults: faults)
    try FS.writeFile(dir + "/c", [], faults: faults)
    #expect(killed.withLock { $0 } == ["2 write \(dir)/b"])
    #expect(faults.steps == 2, "an empty file has no write step")
    #expect(try FS.read(dir + "/b") == [4])
  }
}
