#if canImport(Glibc)
  import Glibc
#endif

/// Whole-file reads of small files: keys, tokens, templates, manifests, metrics.
package enum WholeFile {
  /// The file's bytes, or nil when it cannot be opened.
  package static func bytes(_ path: String) -> [UInt8]? {
    guard let f = fopen(path, "rb") else { return nil }
    defer { fclose(f) }
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
      let n = fread(&buf, 1, buf.count, f)
      if n > 0 { out.append(contentsOf: buf[0..<n]) }
      if n < buf.count { break }
    }
    return out
  }

  /// The file as text, or nil when it cannot be read or is not UTF-8.
  package static func text(_ path: String) -> String? {
    bytes(path).flatMap { String(validating: $0, as: UTF8.self) }
  }
}
