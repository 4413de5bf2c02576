import SendplanDiagnostics
import SendplanFileSystem
import SendplanJSON
import SendplanModel

/// Where things live in an audit folder.
///
/// ```
/// AUDIT/.lock
/// AUDIT/streams/<folder>/stream.json          which customer the stream belongs to
/// AUDIT/streams/<folder>/NNNNNNNN.log         segment N: one run's records, append-only
/// AUDIT/streams/<folder>/NNNNNNNN.manifest.json
/// AUDIT/streams/<folder>/NNNNNNNN.checkpoint
/// AUDIT/streams/<folder>/NNNNNNNN.idx         query index, rebuildable from the segment
/// AUDIT/streams/<folder>/head.json            latest committed seal
/// AUDIT/streams/<folder>/quarantine/          torn tails moved aside by recovery
/// ```
/// `<folder>` is derived from the customer id exactly as in OUT, never taken from it raw.
package struct AuditLayout: Sendable {
  package let root: String

  package init(root: String) {
    var r = root
    while r.count > 1 && r.hasSuffix("/") { r.removeLast() }
    self.root = r
  }

  package var streams: String { root + "/streams" }

  /// The largest segment number a stream can hold: file names have eight digits. A file that names a
  /// larger one (or one below 1) is impossible and refused, so loops over segments stay bounded.
  package static let maxSegment: Int64 = 99_999_999
  /// The most records a stream is believed to hold (2^40); a seal claiming more is impossible, and
  /// the bound keeps every sum and `+ 1` on record numbers far from overflow.
  package static let maxRecords: Int64 = 1 << 40
  /// The largest offset or length a derived file may name in a segment (64 TiB).
  static let maxSegmentBytes: Int64 = 1 << 46

  package func streamDir(_ customerID: ID) -> String { streams + "/" + FolderName.of(customerID) }

  static func number(_ n: Int64) -> String {
    let s = String(n)
    return s.count >= 8 ? s : String(repeating: "0", count: 8 - s.count) + s
  }

  static func segment(_ dir: String, _ n: Int64) -> String { dir + "/" + number(n) + ".log" }
  static func manifest(_ dir: String, _ n: Int64) -> String { dir + "/" + number(n) + ".manifest.json" }
  static func checkpoint(_ dir: String, _ n: Int64) -> String { dir + "/" + number(n) + ".checkpoint" }
  static func index(_ dir: String, _ n: Int64) -> String { dir + "/" + number(n) + ".idx" }
  static func head(_ dir: String) -> String { dir + "/head.json" }
  static func identity(_ dir: String) -> String { dir + "/stream.json" }
  static func quarantine(_ dir: String) -> String { dir + "/quarantine" }
}

/// The numbered files found in one stream folder.
struct StreamFiles {
  var logs: Set<Int64> = []
  var manifests: Set<Int64> = []
  var checkpoints: Set<Int64> = []
  var indexes: Set<Int64> = []
  var hasHead = false
  var hasIdentity = false
  /// Names that do not belong in a stream folder (temporary files from a crash excepted).
  var unknown: [String] = []

  var lastLog: Int64 { logs.max() ?? 0 }

  static func scan(_ dir: String) throws(SendplanError) -> StreamFiles {
    var f = StreamFiles()
    for name in try FS.list(dir) {
      if name == "head.json" {
        f.hasHead = true
        continue
      }
      if name == "stream.json" {
        f.hasIdentity = true
        continue
      }
      if name == "quarantine" || name.hasSuffix(".tmp") { continue }
      let parts = name.split(separator: ".", maxSplits: 1)
      guard parts.count == 2, parts[0].utf8.count == 8, parts[0].utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
        let n = Int64(parts[0]), n >= 1
      else {
        f.unknown.append(name)
        continue
      }
      switch parts[1] {
      case "log": f.logs.insert(n)
      case "manifest.json": f.manifests.insert(n)
      case "checkpoint": f.checkpoints.insert(n)
      case "idx": f.indexes.insert(n)
      default: f.unknown.append(name)
      }
    }
    return f
  }
}

/// `stream.json`: binds a stream folder to its customer id.
enum StreamIdentity {
  static let format = "sendplan-audit-stream/1"

  static func render(_ customerID: String) -> [UInt8] {
    JSONValue.object(["format": .string(format), "customerId": .string(customerID)]).render()
  }

  static func parse(_ bytes: [UInt8]) -> String? {
    guard let v = try? JSONParse.parse(bytes), v["format"]?.stringValue == format else { return nil }
    return v["customerId"]?.stringValue
  }
}

/// The query index of one segment: one JSON line per enrollment, in segment order:
/// `{"e":enrollment,"n":first seq,"k":records,"o":byte offset,"l":byte length,"p":hash before,"z":hash after}`.
enum SegmentIndex {
  static func render(_ entries: [IndexEntry]) -> [UInt8] {
    var out = JSONBytes()
    for e in entries {
      out.raw("{\"e\":")
      out.string(e.enrollmentID)
      out.raw(",\"n\":")
      out.int(e.firstSeq)
      out.raw(",\"k\":")
      out.int(e.count)
      out.raw(",\"o\":")
      out.int(e.offset)
      out.raw(",\"l\":")
      out.int(e.length)
      out.raw(",\"p\":\"")
      out.raw(e.before.hex)
      out.raw("\",\"z\":\"")
      out.raw(e.after.hex)
      out.raw("\"}\n")
    }
    return out.bytes
  }

  /// The entries, or nil when a line is malformed or a number is out of range. Entries that parse
  /// may still be wrong: `consistent(_:segmentBytes:)` checks them against each other and the file.
  static func parse(_ bytes: [UInt8]) -> [IndexEntry]? {
    var out: [IndexEntry] = []
    for line in bytes.split(separator: 0x0A) {
      guard let v = try? JSONParse.parse(line), let e = v["e"]?.stringValue, let n = v["n"]?.intValue,
        let k = v["k"]?.intValue, let o = v["o"]?.intValue, let l = v["l"]?.intValue,
        let p = v["p"]?.stringValue.flatMap(Hash32.init(hex:)), let z = v["z"]?.stringValue.flatMap(Hash32.init(hex:))
      else { return nil }
      // Record 0 is the stream's first header, so an event is record 1 or later.
      guard (1..<AuditLayout.maxRecords).contains(n), (1...AuditLayout.maxRecords).contains(k),
        (1..<AuditLayout.maxSegmentBytes).contains(o), (1..<AuditLayout.maxSegmentBytes).contains(l)
      else { return nil }
      out.append(IndexEntry(enrollmentID: e, firstSeq: n, count: k, offset: o, length: l, before: p, after: z))
    }
    return out
  }

  /// Whether parsed entries can describe a segment of `segmentBytes` bytes whose header line is
  /// `header` (its record number, hash and length with the newline): they tile the bytes after it
  /// without gaps or overlaps, record numbers and hashes run on from the header and from one to the
  /// next, and the last one ends at the end of the file. The records' own hashes are checked as they
  /// are read.
  static func consistent(
    _ entries: [IndexEntry], header: (seq: Int64, hash: Hash32, length: Int64), segmentBytes: Int64
  ) -> Bool {
    guard var previous = entries.first else { return segmentBytes == header.length }
    guard previous.offset == header.length, previous.firstSeq == header.seq + 1, previous.before == header.hash
    else { return false }
    for e in entries.dropFirst() {
      guard e.offset == previous.offset + previous.length, e.firstSeq == previous.firstSeq + previous.count,
        e.before == previous.after
      else { return false }
      previous = e
    }
    return previous.offset + previous.length == segmentBytes
  }
}

extension StreamFiles {
  /// The last committed segment and the head that says so.
  ///
  /// `head.json` decides. Without it (a stream whose first commit never finished, or a deleted head),
  /// a pending `head.json.tmp` means its segment is not committed; otherwise the last segment with
  /// both seal files counts.
  func committed(_ dir: String) throws(SendplanError) -> (segment: Int64, head: StreamHead?, headUnreadable: Bool) {
    if let bytes = try FS.read(AuditLayout.head(dir)) {
      guard let head = StreamHead.parse(bytes) else { return (0, nil, true) }
      return (head.segment, head, false)
    }
    let sealed = logs.filter { manifests.contains($0) && checkpoints.contains($0) }
    if let pending = try pendingHead(dir, after: (sealed.max() ?? 0) - 1) {
      return (sealed.filter { $0 < pending }.max() ?? 0, nil, false)
    }
    return (sealed.max() ?? 0, nil, false)
  }

  /// The segment a `head.json.tmp` names when it is a commit that did not finish: one naming a
  /// segment after `after`, or one cut short while it was written. After a commit the file holds
  /// the previous head (see `FS.rename(_:_:keepingOld:faults:)`), which names an earlier segment and is not pending.
  func pendingHead(_ dir: String, after: Int64) throws(SendplanError) -> Int64? {
    guard let bytes = try FS.read(AuditLayout.head(dir) + ".tmp") else { return nil }
    guard let head = StreamHead.parse(bytes) else { return after + 1 }
    return head.segment > after ? head.segment : nil
  }
}
