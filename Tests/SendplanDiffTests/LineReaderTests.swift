import Foundation
import SendplanDiagnostics
import SendplanTestSupport
import Testing

@testable import SendplanDiff

/// diff's line reader holds at most one line, and refuses a line over its bound.
@Suite struct LineReaderTests {
  @Test(arguments: [(2 << 20, true), (3 << 20, false)])
  func aLineOverTheBoundIsRefusedWithFileAndLine(_ length: Int, _ refused: Bool) throws {
    let path = try scratchFolder("long-line").appendingPathComponent("dry-runs.jsonl").path
    try Data(("{}\n" + String(repeating: "x", count: length) + "\n").utf8).write(to: URL(fileURLWithPath: path))
    let reader = try LineReader(path: path, name: "dry-runs.jsonl", maxLineBytes: refused ? 1 << 20 : 4 << 20)
    var line = RawLine()
    #expect(try reader.next(into: &line) && line.bytes == Array("{}".utf8))
    if refused {
      let e = #expect(throws: SendplanError.self) { _ = try reader.next(into: &line) }
      #expect(
        e?.code == "diff_line_too_long" && e?.line == 2 && e?.path == "dry-runs.jsonl", "\(String(describing: e))")
    } else {
      #expect(try reader.next(into: &line) && line.bytes.count == length)
    }
  }
}
