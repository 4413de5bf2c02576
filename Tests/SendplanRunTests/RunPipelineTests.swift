import Foundation
import SendplanDiagnostics
import SendplanModel
import SendplanRun
import SendplanTestSupport
import Synchronization
import Testing

@Suite struct RunPipelineTests {
  @Test func sampleRunSendsItsEventsInOrderAndPublishesOUT() throws {
    let dir = try scratchFolder("pipeline")
    let out = dir.appendingPathComponent("out").path
    let recorder = Recorder()
    let result = try RunPipeline(options: sampleOptions(out: out), observer: recorder, clock: { 0 }).run()
    #expect(recorder.names == ["bundleRead", "planning", "tenantFinished", "tenantFinished", "published"])
    for event in recorder.all {
      switch event {
      case .bundleRead(let files, let rows, let tenants, let seconds):
        #expect(files == 8 && rows > 50 && tenants == 2 && seconds == 0, "\(files) files, \(rows) rows")
      case .planning(let weights):
        #expect(Set(weights.keys) == [ID("acme"), ID("globex")] && weights.values.allSatisfy { $0 > 0 })
      case .tenantFinished(let outcome):
        #expect(outcome.plan != nil && outcome.failure == nil && outcome.folder == FolderName.of(outcome.customerID))
      case .published(let published):
        #expect(published == out)
      default:
        Issue.record("unexpected \(event.name)")
      }
    }
    #expect(!result.stopped && result.tenantsTotal == 2 && result.failedTenants == 0 && result.audit == nil)
    #expect(result.tenants.map(\.customerID) == [ID("acme"), ID("globex")], "bundle order")
    let files = try tree(URL(fileURLWithPath: out))
    #expect(files["run.json"] == Data(result.manifest))
    for folder in ["acme-822b33ad87c148a0", "globex-5bc1a08d28e40fe7"] {
      for name in ["dry-runs.jsonl", "queue.json", "report.html", "report.xml"] {
        #expect(files["tenants/\(folder)/\(name)"] != nil, "\(folder)/\(name)")
      }
    }
    #expect(files.count == 9)
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["out"], "no staging folder is left")
    // Regenerate the golden files with scripts/regen-golden.
    let golden = try Data(contentsOf: goldenFolder.appendingPathComponent("run.json"))
    #expect(Data(result.manifest) == golden, "run.json differs from Golden/run.json; \(regenHint)")
  }

  /// A stop request, asked before each tenant starts, ends the run with OUT as it was.
  @Test(arguments: [false, true])
  func aStopRequestLeavesOUTAsItWas(outExists: Bool) throws {
    let dir = try scratchFolder("pipeline")
    let out = dir.appendingPathComponent("out").path
    if outExists { _ = try RunPipeline(options: sampleOptions(out: out), observer: NoObserver(), clock: { 0 }).run() }
    let before = try tree(URL(fileURLWithPath: out))
    let recorder = Recorder()
    let result = try RunPipeline(
      options: sampleOptions(day: 2, out: out), observer: recorder, clock: { 0 }, shouldStop: { true }
    ).run()
    #expect(result.stopped)
    #expect(result.tenants.isEmpty && result.tenantsTotal == 2 && result.manifest.isEmpty && result.audit == nil)
    #expect(recorder.names == ["bundleRead", "planning", "stopped"])
    if case .stopped(let done, let total, let sealed) = recorder.all.last {
      #expect(done == 0 && total == 2 && sealed == nil)
    }
    #expect(FileManager.default.fileExists(atPath: out) == outExists, "OUT not created")
    #expect(try tree(URL(fileURLWithPath: out)) == before)
    let left = try FileManager.default.contentsOfDirectory(atPath: dir.path)
    #expect(left == (outExists ? ["out"] : []), "no staging folder is left")
  }

  @Test func aBrokenBundleFailsBeforeAnythingIsWritten() throws {
    let input = try bundleCopy(["steps.csv": "customer_id,sequence_id,step_order,template_id\nacme,\"s1,1,t1\n"])
    let dir = try scratchFolder("pipeline")
    var options = sampleOptions(out: dir.appendingPathComponent("out").path)
    options.input = input.path
    let recorder = Recorder()
    let thrown = #expect(throws: SendplanErrors.self) {
      try RunPipeline(options: options, observer: recorder, clock: { 0 }).run()
    }
    let errors = thrown?.errors ?? []
    #expect(errors.contains { $0.description.contains("steps.csv:2:") && $0.kind == .badData }, "\(errors)")
    #expect(recorder.names == ["stageFailed"])
    if case .stageFailed(let stage, let reported) = recorder.all.first {
      #expect(stage == .readBundle && reported == errors)
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty, "nothing was written")
  }

  @Test func aFolderThatIsNotSendplanOutputIsNotReplaced() throws {
    let dir = try scratchFolder("pipeline")
    try Data("keep me".utf8).write(to: dir.appendingPathComponent("notes.txt"))
    let recorder = Recorder()
    let e = #expect(throws: SendplanError.self) {
      try RunPipeline(options: sampleOptions(out: dir.path), observer: recorder, clock: { 0 }).run()
    }
    #expect(e?.kind == .cannotCreate && e?.code == "out_not_sendplan", "\(String(describing: e))")
    #expect(recorder.names.last == "stageFailed")
    #expect(try tree(dir).keys.sorted() == ["notes.txt"])
  }
}

/// A typical export and one of very short rows: the counted estimate is closer for the first and
/// higher for the second, where a row's own size outweighs its bytes.
@Test(
  "the counted memory estimate against the size-only one",
  arguments: [(bytesPerRow: 60, countedIsLower: true), (bytesPerRow: 10, countedIsLower: false)])
func countedMemoryEstimate(bytesPerRow: Int, countedIsLower: Bool) {
  let rows = 1_000_000
  let sizeOnly = MemoryEstimate.bytes(plain: rows * bytesPerRow, compressed: 0)
  let counted = MemoryEstimate.bytes(plain: rows * bytesPerRow, plainLines: rows, compressed: 0)
  #expect((counted < sizeOnly) == countedIsLower, "\(counted) against \(sizeOnly)")
  // Never below what the rows themselves take.
  #expect(counted >= rows * (64 + bytesPerRow / 2))
}

/// Appends a row to a bundle file once the first pass has read the bundle, as an export still
/// being written would.
final class ChangesTheBundle: RunObserver {
  let file: URL
  let events = Recorder()
  private let changed = Mutex(false)

  init(file: URL) { self.file = file }

  func observe(_ event: RunEvent) {
    events.observe(event)
    guard case .bundleRead = event else { return }
    let first = changed.withLock { c in
      defer { c = true }
      return !c
    }
    guard first else { return }
    guard let handle = try? FileHandle(forWritingTo: file) else { return }
    handle.seekToEndOfFile()
    handle.write(Data("acme,e1,r-late,late@example.test,false,0\n".utf8))
    try? handle.close()
  }
}

/// A partitioned run reads the bundle once per partition; a file that changed in between fails the
/// run, naming the file, and OUT is not created.
@Test func aBundleThatChangesBetweenPartitionsFailsTheRun() throws {
  let input = try bundleCopy()
  let dir = try scratchFolder("pipeline")
  let out = dir.appendingPathComponent("out").path
  var options = sampleOptions(out: out)
  options.input = input.path
  options.memoryLimit = 1
  let observer = ChangesTheBundle(file: input.appendingPathComponent("recipients.csv"))
  let thrown = #expect(throws: SendplanError.self) {
    try RunPipeline(options: options, observer: observer, clock: { 0 }).run()
  }
  let why = String(describing: thrown)
  #expect(thrown?.code == "bundle_changed" && thrown?.location?.file == "recipients.csv", "\(why)")
  #expect(thrown?.message.contains("pass 2 read") == true, "\(why)")
  #expect(observer.events.names.filter { $0 == "bundleRead" }.count == 2)
  #expect(observer.events.names.last == "stageFailed")
  #expect(!FileManager.default.fileExists(atPath: out))
  #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == [], "no staging folder is left")
}
