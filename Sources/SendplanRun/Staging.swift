import SendplanDiagnostics
import SendplanFileSystem

#if canImport(Glibc)
  import Glibc
#endif

/// A temporary folder beside OUT that replaces OUT only once complete.
struct Staging {
  let out: String
  let temp: String
  let parent: String

  init(out: String) throws(SendplanError) {
    var trimmed = out
    while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
    let slash = trimmed.lastIndex(of: "/")
    let parent = slash.map { $0 == trimmed.startIndex ? "/" : String(trimmed[..<$0]) } ?? "."
    let base = slash.map { String(trimmed[trimmed.index(after: $0)...]) } ?? trimmed
    guard !base.isEmpty, base != ".", base != ".." else {
      throw SendplanError(
        .cannotCreate, code: "bad_out", path: out, message: "OUT must name a folder, not . or ..",
        fix: "name an output folder such as out/")
    }
    guard FS.isDirectory(parent) else {
      throw SendplanError(
        .cannotCreate, code: "no_parent", path: parent, message: "the folder that should hold OUT does not exist",
        fix: "create \(parent) first")
    }
    if FS.exists(trimmed) {
      guard FS.isDirectory(trimmed) else {
        throw SendplanError(
          .cannotCreate, code: "out_not_folder", path: trimmed, message: "OUT exists and is not a folder",
          fix: "choose another output folder or remove the file")
      }
      guard FS.exists(trimmed + "/run.json") || Staging.isEmptyDirectory(trimmed) else {
        throw SendplanError(
          .cannotCreate, code: "out_not_sendplan", path: trimmed,
          message: "OUT exists but holds no run.json, so it is not a sendplan output; refusing to replace it",
          fix: "choose another output folder, or empty the folder")
      }
    }
    self.out = trimmed
    self.parent = parent
    self.temp = parent + "/." + base + ".sendplan-tmp"
    // A folder left by a crashed run is ours to clear.
    try FS.removeTree(temp)
    try FS.makeDirectory(temp)
  }

  static func isEmptyDirectory(_ path: String) -> Bool {
    guard let d = opendir(path) else { return false }
    defer { closedir(d) }
    var count = 0
    while readdir(d) != nil { count += 1 }
    return count <= 2
  }

  /// Swaps the finished folder into place: an atomic exchange when OUT exists, else a rename.
  func publish() throws(SendplanError) {
    if FS.exists(out) {
      if let err = FS.exchange(temp, out) {
        throw SendplanError(
          .io, code: "publish_failed", path: out, message: "cannot swap in the new output: \(FS.errorText(err))",
          fix: "check the file system; the previous OUT is unchanged")
      }
      try FS.syncDirectory(parent)
      try FS.removeTree(temp)
    } else {
      if Sys.rename(temp, out) != 0 {
        let err = errno
        throw SendplanError(
          .io, code: "publish_failed", path: out,
          message: "cannot move the new output into place: \(FS.errorText(err))",
          fix: "check the file system, then re-run")
      }
      try FS.syncDirectory(parent)
    }
  }
}
