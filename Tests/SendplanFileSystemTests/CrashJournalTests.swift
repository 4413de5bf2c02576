import Foundation
import SendplanFileSystem
import SendplanTestSupport
import Testing

@Suite struct CrashJournalTests {
  /// Each helper's effect is one journal line, in order, with the bytes written kept in `.data`.
  @Test func recordsEveryEffectInOrder() throws {
    let dir = try scratchFolder("journal").path
    let journal = dir + "/journal"
    CrashJournal.current = try CrashJournal(path: journal)
    do {
      defer { CrashJournal.current = nil }
      try FS.makeDirectory(dir + "/d")
      try FS.writeFile(dir + "/d/a.tmp", Array("hello".utf8), faults: nil)
      try FS.sync(dir + "/d/a.tmp", faults: nil)
      try FS.rename(dir + "/d/a.tmp", dir + "/d/a", faults: nil)
      try FS.syncDirectory(dir + "/d")
      try AtomicFile.replace(dir + "/d/b", with: Array("xy".utf8), tag: "t")
      try FS.truncate(dir + "/d/a", to: 2, faults: nil)
      try FS.syncAll(dir + "/d", faults: nil)
      try FS.removeTree(dir + "/d")
    }
    // Other tests may run meanwhile; only this folder's lines count.
    let lines = try String(contentsOfFile: journal, encoding: .utf8).split(separator: "\n").compactMap {
      try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
    }.filter { (($0["path"] ?? $0["to"]) as? String)?.hasPrefix(dir + "/d") ?? false }
    let ops = lines.map {
      ($0["op"] as? String ?? "") + " " + (($0["path"] ?? $0["to"]) as? String ?? "").dropFirst(dir.count + 1)
    }
    #expect(
      ops.prefix(13) == [
        "mkdir d", "open d/a.tmp", "write d/a.tmp", "fsync d/a.tmp", "rename d/a", "fsync d",
        "open d/b.tmp.t", "write d/b.tmp.t", "fsync d/b.tmp.t", "rename d/b", "fsync d", "truncate d/a", "syncfs d",
      ])
    // removeTree takes the folder's entries in readdir order.
    #expect(ops.dropFirst(13).prefix(2).sorted() == ["unlink d/a", "unlink d/b"] && ops.dropFirst(15) == ["rmdir d"])
    let data = try Data(contentsOf: URL(fileURLWithPath: journal + ".data"))
    let write = try #require(lines.first { $0["op"] as? String == "write" })
    let at = try #require(write["at"] as? Int)
    #expect(write["off"] as? Int == 0 && write["len"] as? Int == 5)
    #expect(data.count >= at + 5 && String(decoding: data[at..<at + 5], as: UTF8.self) == "hello")
  }

  /// Without a journal nothing is recorded and the helpers work as before.
  @Test func nothingIsRecordedWithoutAJournal() throws {
    let dir = try scratchFolder("journal").path
    try FS.writeFile(dir + "/a", [1, 2], faults: nil)
    try FS.sync(dir + "/a", faults: nil)
    #expect(try FS.read(dir + "/a") == [1, 2])
  }
}
