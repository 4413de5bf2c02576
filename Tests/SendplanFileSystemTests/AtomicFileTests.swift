import Foundation
import SendplanDiagnostics
import SendplanFileSystem
import SendplanTestSupport
import Testing

@Suite struct AtomicFileTests {
  @Test(arguments: [0, 1, 70_000])
  func replaceLeavesTheNewContentAndNoTemporaryFile(size: Int) throws {
    let dir = try scratchFolder("atomic").path
    let path = dir + "/metrics.prom"
    try AtomicFile.replace(path, with: Array("old\n".utf8), tag: "1")
    let new = [UInt8](repeating: 0x78, count: size)
    try AtomicFile.replace(path, with: new, tag: "2")
    #expect(WholeFile.bytes(path) == new)
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["metrics.prom"])
  }

  @Test func aFailedReplaceKeepsTheOldFileAndCleansUp() throws {
    let dir = try scratchFolder("atomic").path
    // A folder in the way: the rename over it fails.
    try FileManager.default.createDirectory(atPath: dir + "/taken/inner", withIntermediateDirectories: true)
    let e = #expect(throws: SendplanError.self) { try AtomicFile.replace(dir + "/taken", with: [1], tag: "t") }
    #expect(e?.code == "rename_failed" && e?.kind == .io)
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["taken"])
    // No folder to write in: the temporary file cannot be created.
    #expect(throws: SendplanError.self) { try AtomicFile.replace(dir + "/none/x", with: [1], tag: "t") }
  }

  @Test func wholeFileReadsBytesAndOnlyUTF8AsText() throws {
    let dir = try scratchFolder("atomic").path
    try Data([0x68, 0x69, 0x0A]).write(to: URL(fileURLWithPath: dir + "/ok"))
    try Data([0xC3, 0x28]).write(to: URL(fileURLWithPath: dir + "/bad"))
    #expect(WholeFile.text(dir + "/ok") == "hi\n")
    #expect(WholeFile.bytes(dir + "/bad") == [0xC3, 0x28] && WholeFile.text(dir + "/bad") == nil)
    #expect(WholeFile.bytes(dir + "/missing") == nil && WholeFile.text(dir + "/missing") == nil)
  }
}
