import Foundation
import SendplanDiagnostics
import SendplanFileSystem
import SendplanTestSupport
import Testing

@testable import SendplanAudit

@Suite struct FileIOTests {
  /// Whole blocks go out with O_DIRECT and the tail through the page cache; every split must read back
  /// byte for byte, including buffers that are not page-aligned (written the ordinary way).
  @Test(arguments: [1, 4095, 4096, 4097, 8192, 1 << 20, (1 << 20) + 1, (1 << 20) + 4096 + 17, 3_000_001])
  func createWritesEveryByte(size: Int) throws {
    let dir = try scratchFolder("fileio")
    let w = ByteWriter()
    for i in 0..<size { w.byte(UInt8(truncatingIfNeeded: i &* 31 &+ i >> 12)) }
    let expected = Array(UnsafeBufferPointer(start: w.base, count: w.count))
    try FS.writeSegment(dir.path + "/aligned", w.buffer(from: 0), appending: false, faults: nil)
    #expect(try [UInt8](Data(contentsOf: dir.appendingPathComponent("aligned"))) == expected)
    try FS.writeSegment(dir.path + "/unaligned", w.buffer(from: 1), appending: false, faults: nil)
    #expect(try [UInt8](Data(contentsOf: dir.appendingPathComponent("unaligned"))) == Array(expected.dropFirst()))
  }

  @Test func createRefusesAnExistingFile() throws {
    let dir = try scratchFolder("fileio")
    let w = ByteWriter()
    w.raw("old")
    try FS.writeSegment(dir.path + "/f", w.buffer(from: 0), appending: false, faults: nil)
    #expect(throws: SendplanError.self) {
      try FS.writeSegment(dir.path + "/f", w.buffer(from: 0), appending: false, faults: nil)
    }
  }

  /// The write steps are counted per MiB as before, so the crash test's kill points keep their meaning.
  @Test func createCountsOneWriteStepPerMebibyte() throws {
    let dir = try scratchFolder("fileio")
    let w = ByteWriter()
    for _ in 0..<((2 << 20) + 5) { w.byte(0x61) }
    let faults = FaultPoints()
    try FS.writeSegment(dir.path + "/f", w.buffer(from: 0), appending: false, faults: faults)
    #expect(faults.steps == 3)
  }
}
