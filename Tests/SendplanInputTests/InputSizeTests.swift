import Foundation
import SendplanInput
import Testing

/// The sizes and line counts a run sizes its partitions by, before it reads the bundle.
@Test func lineCountsCoverEveryPlainFileAndPartButNoGzipFile() throws {
  // A quoted line break is a line feed too; the second part is larger than one read buffer.
  let f = try partsFixture([
    "part-00000.csv": recipientsHeader + "acme,e1,r1,\"a\nb\"@x.test\n",
    "part-00001.csv": recipientsHeader + String(repeating: "acme,e1,r2,b@x.test\n", count: 20_000),
  ])
  try f.write("batches.csv.gz", bytes: Array("\n\n\n".utf8))
  var expectedLines = 0
  var plainBytes = 0
  for path in try FileManager.default.subpathsOfDirectory(atPath: f.dir.path).sorted()
  where path.hasSuffix(".csv") {
    let data = try Data(contentsOf: f.dir.appendingPathComponent(path))
    plainBytes += data.count
    expectedLines += data.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
  }
  let counted = BundleReader.inputSizes(path: f.dir.path, countingLines: true)
  let sized = BundleReader.inputSizes(path: f.dir.path)
  #expect(counted.plain == plainBytes && sized.plain == plainBytes)
  #expect(counted.compressed == 3 && sized.compressed == 3)
  #expect(counted.plainLines == expectedLines)
  #expect(expectedLines > 20_000)
  #expect(sized.plainLines == 0, "without countingLines no file is read")
}
