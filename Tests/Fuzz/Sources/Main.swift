import Foundation

/// One libFuzzer target: set up once (fixtures, scratch folders), then called with every input.
///
/// A target must not trap on any input: what the code under test rejects it rejects with an error,
/// and `FuzzCheck.that` turns a broken invariant into an abort libFuzzer reports.
protocol FuzzTarget: AnyObject {
  init(scratch: String) throws
  func run(_ data: [UInt8])
  /// Seed inputs built from real files (written by `SENDPLAN_FUZZ_SEEDS=DIR`); most targets keep
  /// hand-written seeds in Tests/Fuzz/Corpus instead.
  func seeds() throws -> [String: [UInt8]]
}

extension FuzzTarget {
  func seeds() throws -> [String: [UInt8]] { [:] }
}

/// Every target by name, in the order `scripts/fuzz` runs them.
func fuzzTargets() -> [(name: String, make: (String) throws -> any FuzzTarget)] {
  [
    ("csv", { try CSVFuzz(scratch: $0) }),
    ("jsonl", { try JSONLFuzz(scratch: $0) }),
    ("bundle", { try BundleFuzz(scratch: $0) }),
    ("values", { try ValuesFuzz(scratch: $0) }),
    ("diff", { try DiffFuzz(scratch: $0) }),
    ("audit-files", { try AuditFilesFuzz(scratch: $0) }),
    ("audit-folder", { try AuditFolderFuzz(scratch: $0) }),
    ("report-xml", { try ReportXMLFuzz(scratch: $0) }),
    ("server", { try ServerFuzz(scratch: $0) }),
  ]
}

/// The selected target; set once by `sendplan_fuzz_select` before libFuzzer starts.
nonisolated(unsafe) var selectedTarget: (any FuzzTarget)?
nonisolated(unsafe) let targetNames = strdup(fuzzTargets().map(\.name).joined(separator: " "))

@_cdecl("sendplan_fuzz_names")
func sendplanFuzzNames() -> UnsafePointer<CChar>? { UnsafePointer(targetNames) }

/// Sets up the target `name`; 0 on success. With `SENDPLAN_FUZZ_SEEDS=DIR` it also writes the
/// target's generated seeds into DIR.
@_cdecl("sendplan_fuzz_select")
func sendplanFuzzSelect(_ name: UnsafePointer<CChar>) -> CInt {
  let wanted = String(cString: name)
  guard let entry = fuzzTargets().first(where: { $0.name == wanted }) else { return 1 }
  do {
    // The audit writer syncs every file and folder it writes; on tmpfs that costs nothing.
    let env = ProcessInfo.processInfo.environment
    let base =
      env["SENDPLAN_FUZZ_SCRATCH"] ?? (access("/dev/shm", W_OK) == 0 ? "/dev/shm/" : NSTemporaryDirectory())
    let scratch = base + "/sendplan-fuzz-\(getpid())-\(wanted)"
    try? FileManager.default.removeItem(atPath: scratch)
    try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    atexit { removeScratch() }
    scratchRoot = scratch
    let target = try entry.make(scratch)
    if let dir = ProcessInfo.processInfo.environment["SENDPLAN_FUZZ_SEEDS"] {
      try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
      for (file, bytes) in try target.seeds() {
        try Data(bytes).write(to: URL(fileURLWithPath: dir + "/" + file))
      }
    }
    selectedTarget = target
    return 0
  } catch {
    FileHandle.standardError.write(Data("fuzz: cannot set up \(wanted): \(error)\n".utf8))
    return 1
  }
}

nonisolated(unsafe) var scratchRoot: String?

func removeScratch() {
  if let scratchRoot { try? FileManager.default.removeItem(atPath: scratchRoot) }
}

@_cdecl("sendplan_fuzz_one")
func sendplanFuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
  selectedTarget?.run(bytes)
  return 0
}

/// Invariants the targets check beyond "does not trap".
enum FuzzCheck {
  static func that(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition {
      FileHandle.standardError.write(Data("fuzz: invariant broken: \(message())\n".utf8))
      abort()
    }
  }
}

/// Small helpers for carving structure out of fuzz input.
extension Array where Element == UInt8 {
  /// The pieces between `separator` bytes.
  func pieces(_ separator: UInt8) -> [ArraySlice<UInt8>] {
    split(separator: separator, omittingEmptySubsequences: false)
  }

  /// Text of the bytes, with invalid UTF-8 replaced.
  var text: String { String(decoding: self, as: UTF8.self) }
}

extension ArraySlice where Element == UInt8 {
  var text: String { String(decoding: self, as: UTF8.self) }
}

/// Scratch files: rewrites a folder's contents for each input.
enum Scratch {
  static func reset(_ dir: String) {
    try? FileManager.default.removeItem(atPath: dir)
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
  }

  static func write(_ path: String, _ bytes: some Collection<UInt8>) {
    _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
  }

  /// Every regular file under `dir`, relative to it, sorted byte-wise.
  static func files(_ dir: String) -> [String] {
    let e = FileManager.default.enumerator(atPath: dir)
    var out: [String] = []
    while let f = e?.nextObject() as? String {
      var isDir: ObjCBool = false
      if FileManager.default.fileExists(atPath: dir + "/" + f, isDirectory: &isDir), !isDir.boolValue {
        out.append(f)
      }
    }
    return out.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
  }
}
