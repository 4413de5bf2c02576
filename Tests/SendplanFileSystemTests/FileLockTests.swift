import Foundation
import SendplanDiagnostics
import SendplanFileSystem
import SendplanTestSupport
import Testing

@Suite struct FileLockTests {
  /// (first holder exclusive, second exclusive, second is refused)
  @Test(arguments: [(true, true, true), (true, false, true), (false, true, true), (false, false, false)])
  func exclusiveLocksExcludeEveryOther(first: Bool, second: Bool, refused: Bool) throws {
    let path = try scratchFolder("lock").path + "/lock"
    let held = try FileLock(path: path, exclusive: first, what: "the test lock")
    var failure: SendplanError?
    do throws(SendplanError) {
      _ = try FileLock(path: path, exclusive: second, what: "the test lock")
    } catch {
      failure = error
    }
    #expect((failure != nil) == refused)
    if let failure {
      #expect(failure.kind == .busy && failure.code == "audit_locked")
      #expect(failure.message.contains("holds the test lock"))
      #expect(failure.message.contains("(pid \(getpid()))") == first, "an exclusive holder names its pid")
    }
    _ = held
  }

  @Test func aReleasedLockCanBeTakenAgain() throws {
    let path = try scratchFolder("lock").path + "/lock"
    do {
      let first = try FileLock(path: path, exclusive: true, what: "it")
      _ = first
    }
    let again = try FileLock(path: path, exclusive: true, what: "it")
    #expect(try String(contentsOfFile: path, encoding: .utf8) == "\(getpid())\n")
    _ = again
  }

  @Test func aLockInAMissingFolderCannotBeCreated() throws {
    let path = try scratchFolder("lock").path + "/no/such/lock"
    let e = #expect(throws: SendplanError.self) { try FileLock(path: path, exclusive: true, what: "it") }
    #expect(e?.kind == .cannotCreate && e?.code == "lock_unavailable")
  }
}
