import Foundation
import SendplanDiagnostics
import SendplanModel

#if canImport(Glibc)
  import Glibc
#endif

/// Reads a file line by line in 1 MiB chunks; blank lines are skipped.
final class LineReader {
  /// The longest line read by default (one enrollment's dry run); a longer one is refused rather than held.
  static let defaultMaxLineBytes = 256 << 20
  let name: String
  let maxLineBytes: Int
  private let fd: Int32
  private var buf = [UInt8](repeating: 0, count: 1 << 20)
  private var pos = 0
  private var len = 0
  private var eof = false
  private(set) var lineNo = 0

  init(path: String, name: String, maxLineBytes: Int = defaultMaxLineBytes) throws(SendplanError) {
    fd = open(path, O_RDONLY | O_CLOEXEC)
    self.name = name
    self.maxLineBytes = maxLineBytes
    guard fd >= 0 else {
      throw SendplanError(
        .badData, code: "diff_unreadable", path: name, line: nil,
        message: "cannot open: \(String(cString: strerror(errno)))",
        fix: "check the path; diff takes two OUT folders or two dry-runs.jsonl files")
    }
  }

  deinit { close(fd) }

  private func fill() throws(SendplanError) {
    if pos > 0 {
      buf.withUnsafeMutableBufferPointer { b in
        if let base = b.baseAddress, len > pos { memmove(base, base + pos, len - pos) }
      }
      len -= pos
      pos = 0
    }
    if len == buf.count {
      guard buf.count < maxLineBytes else {
        throw SendplanError(
          .badData, code: "diff_line_too_long", path: name, line: lineNo + 1,
          message: "a line is longer than \(maxLineBytes) bytes, the most diff reads",
          fix: "check that the file is a dry-runs.jsonl written by sendplan run")
      }
      buf.append(contentsOf: repeatElement(0, count: buf.count))
    }
    let n = buf.withUnsafeMutableBufferPointer { b in read(fd, b.baseAddress.map { $0 + len }, b.count - len) }
    if n < 0 {
      throw SendplanError(
        .badData, code: "diff_read_failed", path: name, line: lineNo + 1,
        message: "read failed: \(String(cString: strerror(errno)))",
        fix: "check the disk and re-run")
    }
    if n == 0 { eof = true }
    len += n
  }

  /// Puts the next non-blank line into `line.bytes`; false at end of file.
  func next(into line: inout RawLine) throws(SendplanError) -> Bool {
    while true {
      let found: Int? = buf.withUnsafeBufferPointer { b in
        guard let base = b.baseAddress, len > pos else { return nil }
        guard let hit = memchr(base + pos, 0x0A, len - pos) else { return nil }
        return base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
      }
      if found == nil && !eof {
        try fill()
        continue
      }
      if found == nil && pos == len { return false }
      if found == nil {
        throw SendplanError(
          .badData, code: "diff_truncated", path: name, line: lineNo + 1,
          message: "the last line is not terminated; the file looks truncated",
          fix: "re-create the input with a complete run")
      }
      let end = found ?? len
      lineNo += 1
      line.bytes.removeAll(keepingCapacity: true)
      buf.withUnsafeBufferPointer { b in
        line.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: b[pos..<end]))
      }
      pos = end + 1
      if line.bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) { continue }
      return true
    }
  }
}

/// One side of a diff: a whole OUT folder or a single dry-runs.jsonl file.
struct Side {
  struct Tenant {
    var customerId: String
    var status: String
    /// Path of the tenant's dry-runs.jsonl, nil when the tenant failed.
    var dryRuns: String?
    var displayName: String
  }

  var info: RunInfo
  /// Sorted by customer id, byte-wise.
  var tenants: [Tenant]

  static func load(_ path: String) throws(SendplanError) -> Side {
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
      throw SendplanError(
        .badData, code: "diff_missing", path: path, line: nil, message: "does not exist",
        fix: "pass an OUT folder or a dry-runs.jsonl file")
    }
    if !isDir.boolValue {
      let t = Tenant(customerId: "", status: "planned", dryRuns: path, displayName: path)
      return Side(info: RunInfo(path: path), tenants: [t])
    }
    let manifestPath = path + "/run.json"
    guard let data = FileManager.default.contents(atPath: manifestPath) else {
      throw SendplanError(
        .badData, code: "diff_no_manifest", path: manifestPath, line: nil, message: "missing or unreadable",
        fix: "pass the output folder of a sendplan run")
    }
    guard let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
      let tenants = obj["tenants"] as? [[String: Any]]
    else {
      throw SendplanError(
        .badData, code: "diff_bad_manifest", path: manifestPath, line: nil, message: "is not a sendplan run manifest",
        fix: "run the nightly job again to write it anew")
    }
    var out: [Tenant] = []
    for t in tenants {
      guard let cid = t["customerId"] as? String, let folder = t["folder"] as? String,
        let status = t["status"] as? String
      else {
        throw SendplanError(
          .badData, code: "diff_bad_manifest", path: manifestPath, line: nil,
          message: "a tenant entry lacks customerId, folder or status",
          fix: "run the nightly job again to write it anew")
      }
      // The folder comes from a file on disk: accept only the shape sendplan writes.
      let name = folder.hasPrefix("tenants/") ? String(folder.dropFirst(8)) : ""
      let safe =
        !name.isEmpty && name.utf8.count <= 80 && !name.hasPrefix(".")
        && name.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D || $0 == 0x5F }
      guard safe else {
        throw SendplanError(
          .badData, code: "diff_unsafe_folder", path: manifestPath, line: nil,
          message: "tenant folder \(folder.debugDescription) is not a sendplan folder name",
          fix: "do not edit run.json by hand; run the job again")
      }
      out.append(
        Tenant(
          customerId: cid, status: status, dryRuns: status == "planned" ? path + "/" + folder + "/dry-runs.jsonl" : nil,
          displayName: folder + "/dry-runs.jsonl"))
    }
    out.sort { ByteOrder.less($0.customerId, $1.customerId) }
    let tool = obj["tool"] as? [String: Any]
    return Side(
      info: RunInfo(
        path: path, runId: obj["runId"] as? String, asOf: obj["asOf"] as? String,
        toolVersion: tool?["version"] as? String),
      tenants: out)
  }
}
