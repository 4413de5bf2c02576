import Foundation
import SendplanDiagnostics
import SendplanFileSystem
import SendplanTestSupport
import Testing

/// Bytes in page-aligned memory, as the audit encoder hands them to `FS.writeSegment`.
final class AlignedBytes {
  let base: UnsafeMutableRawPointer
  let count: Int

  init(count: Int, byte: (Int) -> UInt8) {
    self.count = count
    base = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: FS.blockAlignment)
    for i in 0..<count { base.storeBytes(of: byte(i), toByteOffset: i, as: UInt8.self) }
  }

  deinit { base.deallocate() }

  /// The bytes from `offset` on; only offset 0 is page-aligned.
  func buffer(from offset: Int) -> UnsafeRawBufferPointer {
    UnsafeRawBufferPointer(start: base + offset, count: count - offset)
  }

  var bytes: [UInt8] { Array(buffer(from: 0)) }
}

@Suite struct FileIOTests {
  /// Whole blocks go out with O_DIRECT and the tail through the page cache; every split must read back
  /// byte for byte, including buffers that are not page-aligned (written the ordinary way).
  @Test(arguments: [1, 4095, 4096, 4097, 8192, 1 << 20, (1 << 20) + 1, (1 << 20) + 4096 + 17, 3_000_001])
  func createWritesEveryByte(size: Int) throws {
    let dir = try scratchFolder("fileio")
    let w = AlignedBytes(count: size) { i in UInt8(truncatingIfNeeded: i &* 31 &+ i >> 12) }
    let expected = w.bytes
    try FS.writeSegment(dir.path + "/aligned", w.buffer(from: 0), appending: false, faults: nil)
    #expect(try [UInt8](Data(contentsOf: dir.appendingPathComponent("aligned"))) == expected)
    try FS.writeSegment(dir.path + "/unaligned", w.buffer(from: 1), appending: false, faults: nil)
    #expect(try [UInt8](Data(contentsOf: dir.appendingPathComponent("unaligned"))) == Array(expected.dropFirst()))
  }

  @Test func createRefusesAnExistingFile() throws {
    let dir = try scratchFolder("fileio")
    let w = AlignedBytes(count: 3) { i in Array("old".utf8)[i] }
    try FS.writeSegment(dir.path + "/f", w.buffer(from: 0), appending: false, faults: nil)
    #expect(throws: SendplanError.self) {
      try FS.writeSegment(dir.path + "/f", w.buffer(from: 0), appending: false, faults: nil)
    }
  }

  /// The write steps are counted per MiB as before, so the crash test's kill points keep their meaning.
  @Test func createCountsOneWriteStepPerMebibyte() throws {
    let dir = try scratchFolder("fileio")
    let w = AlignedBytes(count: (2 << 20) + 5) { _ in 0x61 }
    let faults = FaultPoints()
    try FS.writeSegment(dir.path + "/f", w.buffer(from: 0), appending: false, faults: faults)
    #expect(faults.steps == 3)
  }

  /// Appending finishes an interrupted segment: the old bytes stay, the new ones follow.
  @Test(arguments: [0, 1, 4096, 5000])
  func appendingKeepsWhatIsThere(existing: Int) throws {
    let dir = try scratchFolder("fileio")
    let path = dir.path + "/seg"
    let head = [UInt8](repeating: 0x41, count: existing)
    try Data(head).write(to: URL(fileURLWithPath: path))
    let tail = AlignedBytes(count: 4096 + 3) { i in UInt8(truncatingIfNeeded: i) }
    try FS.writeSegment(path, tail.buffer(from: 0), appending: true, faults: nil)
    #expect(try FS.read(path) == head + tail.bytes)
    #expect(try FS.read(path, offset: Int64(existing), length: 5) == Array(tail.bytes.prefix(5)))
    #expect(FS.size(path) == Int64(existing + tail.count))
  }

  @Test func readOfAMissingFileIsNilAndListIsSortedByteWise() throws {
    let dir = try scratchFolder("fileio")
    #expect(try FS.read(dir.path + "/nothing") == nil)
    for name in ["b", "B", "a", "é", "_"] { try FS.writeFile(dir.path + "/" + name, [1], faults: nil) }
    #expect(try FS.list(dir.path) == ["B", "_", "a", "b", "é"])
    #expect(try FS.list(dir.path + "/nothing").isEmpty)
    try FS.removeTree(dir.path)
    #expect(!FS.exists(dir.path))
  }
}
