import SendplanDiagnostics

#if canImport(Glibc)
  import Glibc
#endif

/// Replaces one small file atomically: a reader sees the old content or the new, never a mix.
package enum AtomicFile {
  /// Writes `path.tmp.<tag>`, fsyncs it, renames it over `path` and fsyncs the folder.
  /// `tag` keeps concurrent writers (the caller's pid) from sharing a temporary file.
  package static func replace(_ path: String, with bytes: [UInt8], tag: String) throws(SendplanError) {
    let temp = path + ".tmp." + tag
    do {
      try OutputFile.write(bytes, to: temp, sync: true)
    } catch {
      _ = Sys.unlink(temp)
      throw error
    }
    if Sys.rename(temp, path) != 0 {
      let e = errno
      _ = Sys.unlink(temp)
      throw SendplanError(
        .io, code: "rename_failed", path: path, message: "cannot rename \(temp) over it: \(FS.errorText(e))",
        fix: "check the folder's permissions and free space")
    }
    let slash = path.lastIndex(of: "/")
    let dir = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
    try FS.syncDirectory(dir)
  }
}
