import SendplanDiagnostics
import SendplanFileSystem
import SendplanJSON
import SendplanModel

/// One page of an enrollment's audit entries.
package struct QueryPage: Sendable {
  package var enrollmentID: String
  package var entries: [JSONValue]
  package var nextCursor: String?

  package init(enrollmentID: String, entries: [JSONValue], nextCursor: String?) {
    self.enrollmentID = enrollmentID
    self.entries = entries
    self.nextCursor = nextCursor
  }

  /// The Stage 2A audit response.
  package var document: JSONValue {
    .object([
      "data": .object(["enrollmentId": .string(enrollmentID), "entries": .array(entries)]),
      "nextCursor": nextCursor.map { .string($0) } ?? .null,
    ])
  }
}

/// Reads one enrollment's entries from one tenant's stream, oldest first, verifying each against its hash.
package enum AuditQuery {
  package static let defaultLimit = 50
  package static let maxLimit = 1000

  /// The stable entry id: the first 32 hex digits of SHA-256 over `sendplan-audit-id/1` followed by,
  /// for each of customer, run, enrollment, event type, step order (decimal, or empty) and recipient
  /// (or empty), its UTF-8 length as 4 big-endian bytes and its bytes.
  package static func entryID(
    customerID: String, runID: String, enrollmentID: String, type: String, step: Int64?, recipient: String?
  ) -> String {
    var b = Array("sendplan-audit-id/1".utf8)
    for part in [customerID, runID, enrollmentID, type, step.map { String($0) } ?? "", recipient ?? ""] {
      let u = Array(part.utf8)
      let n = UInt32(u.count)
      b += [UInt8(n >> 24), UInt8(n >> 16 & 255), UInt8(n >> 8 & 255), UInt8(n & 255)]
      b += u
    }
    return String(Hash32.sha256(b).hex.prefix(32))
  }

  static func entry(_ e: Event, header: SegmentHeader) -> JSONValue {
    var payload: [String: JSONValue] = [:]
    if let s = e.stepOrder { payload["stepOrder"] = .int(s) }
    if let r = e.recipientID { payload["recipientId"] = .string(r) }
    if let c = e.recipientCount { payload["recipientCount"] = .int(c) }
    if let r = e.reason { payload["reason"] = .string(r) }
    if let errs = e.errors { payload["errors"] = .array(errs.map { .string($0) }) }
    if let x = e.evidence { payload["evidence"] = x }
    return .object([
      "id": .string(
        entryID(
          customerID: header.customerID, runID: header.runID, enrollmentID: e.enrollmentID, type: e.type.rawValue,
          step: e.stepOrder, recipient: e.recipientID)),
      "eventType": .string(e.type.rawValue),
      "timestamp": .string(header.timestamp),
      "customerId": .string(header.customerID),
      "enrollmentId": .string(e.enrollmentID),
      "runId": .string(header.runID),
      "payload": .object(payload),
    ])
  }

  /// The cursor binds the next record number to this customer and enrollment.
  static func tag(_ customerID: String, _ enrollmentID: String) -> String {
    var b = Array("sendplan-audit-cursor/1".utf8)
    b.append(0)
    b += Array(customerID.utf8)
    b.append(0)
    b += Array(enrollmentID.utf8)
    return String(Hash32.sha256(b).hex.prefix(16))
  }

  static func encodeCursor(seq: Int64, customerID: String, enrollmentID: String) -> String {
    Base64.encode(Array("c1:\(seq):\(tag(customerID, enrollmentID))".utf8))
      .replacingOccurrences("+", "-").replacingOccurrences("/", "_")
  }

  static func decodeCursor(_ c: String, customerID: String, enrollmentID: String) throws(SendplanError) -> Int64 {
    let bad = SendplanError(
      .usage, code: "bad_cursor", path: "", message: "the cursor is not valid for this customer and enrollment",
      fix: "pass the nextCursor from a previous page of the same query, or start again without a cursor")
    guard let raw = Base64.decode(c.replacingOccurrences("-", "+").replacingOccurrences("_", "/")),
      let text = String(validating: raw, as: UTF8.self)
    else { throw bad }
    let parts = text.split(separator: ":", omittingEmptySubsequences: false)
    guard parts.count == 3, parts[0] == "c1", let seq = Int64(parts[1]), seq >= 0,
      parts[2] == tag(customerID, enrollmentID)
    else { throw bad }
    return seq
  }

  package static func page(
    root: String, customerID: ID, enrollmentID: String, limit: Int = defaultLimit, cursor: String? = nil
  ) throws(SendplanError) -> QueryPage {
    guard (1...maxLimit).contains(limit) else {
      throw SendplanError(
        .usage, code: "bad_limit", path: "", message: "the page size must be 1 to \(maxLimit)",
        fix: "ask for a smaller page")
    }
    let from =
      try cursor.map { c throws(SendplanError) in
        try decodeCursor(c, customerID: customerID.string, enrollmentID: enrollmentID)
      } ?? 0
    let notFound = SendplanError(
      .missing, code: "enrollment_not_found", path: "",
      message:
        "no audit entries for enrollment \(enrollmentID.debugDescription) of customer \(customerID.string.debugDescription)",
      fix: "check both ids; entries appear once an audited run has sealed")
    let dir = AuditLayout(root: root).streamDir(customerID)
    guard let idBytes = try FS.read(AuditLayout.identity(dir)) else { throw notFound }
    guard StreamIdentity.parse(idBytes) == customerID.string else {
      throw SendplanError(
        .badData, code: "stream_owner_mismatch", path: AuditLayout.identity(dir),
        message: "the stream folder does not belong to this customer", fix: "verify the audit folder")
    }
    // Only committed seals are read, so a page never shows a half-written run.
    let sealed: Int64
    if let hb = try FS.read(AuditLayout.head(dir)), let head = StreamHead.parse(hb) {
      sealed = head.segment
    } else {
      let files = try StreamFiles.scan(dir)
      sealed = files.logs.filter { files.manifests.contains($0) && files.checkpoints.contains($0) }.max() ?? 0
    }
    var entries: [JSONValue] = []
    var next: String?
    var everSeen = false
    segments: for n in stride(from: 1, through: sealed, by: 1) {
      let spath = AuditLayout.segment(dir, n)
      guard let segmentBytes = FS.size(spath) else { throw damaged(spath, "sealed segment \(n) is missing") }
      var ranges: [IndexEntry]
      // The index is derived, so it is only a hint: used when it tiles the segment exactly, rebuilt otherwise.
      if let ib = try FS.read(AuditLayout.index(dir, n)), let idx = SegmentIndex.parse(ib),
        let h = try? headerLine(spath),
        SegmentIndex.consistent(idx, header: (h.header.seq, h.hash, h.length), segmentBytes: segmentBytes)
      {
        ranges = idx.filter { $0.enrollmentID == enrollmentID }
      } else {
        // No usable index: rebuild it from the records, continuing from the previous seal.
        var chain = Hash32.zero
        var frontier = MerkleFrontier()
        if n > 1 {
          guard let mb = try FS.read(AuditLayout.manifest(dir, n - 1)), let m = SealManifest.parse(mb),
            let f = MerkleFrontier(size: m.treeSize, nodes: m.frontier)
          else { throw damaged(AuditLayout.manifest(dir, n - 1), "the manifest is not valid") }
          chain = m.chainHead
          frontier = f
        }
        let bytes = try FS.read(spath) ?? []
        let scan = SegmentScan.read(bytes, number: n, customerID: customerID.string, chain: chain, frontier: frontier)
        // A sealed segment starts with its header; an empty or headless one is damaged, not empty.
        guard scan.problem == nil, scan.header != nil else {
          throw damaged(spath, "the segment does not read back cleanly")
        }
        ranges = scan.index.filter { $0.enrollmentID == enrollmentID }
      }
      guard !ranges.isEmpty else { continue }
      everSeen = true
      ranges = ranges.filter { $0.firstSeq + $0.count > from }
      guard !ranges.isEmpty else { continue }
      let header = try readHeader(spath)
      for r in ranges {
        guard let size = FS.size(spath), r.offset <= size - r.length else {
          throw damaged(spath, "the index points outside the segment")
        }
        let bytes = try FS.read(spath, offset: r.offset, length: Int(r.length))
        guard bytes.count == Int(r.length) else { throw damaged(spath, "the index points outside the segment") }
        var previous = r.before
        var start = 0
        var taken: [JSONValue] = []
        var cursorAt: Int64?
        while start < bytes.count {
          guard let nl = bytes[start...].firstIndex(of: 0x0A) else { throw damaged(spath, "a record is cut short") }
          let d: (record: Record, hash: Hash32, tagOK: Bool)
          do throws(RecordDecoder.Problem) {
            d = try RecordDecoder.decode(bytes[start..<nl], previous: previous)
          } catch {
            throw damaged(spath, "a record of this enrollment is malformed")
          }
          guard d.tagOK, case .event(let e) = d.record, e.enrollmentID == enrollmentID else {
            throw damaged(spath, "record \(d.record.seq) does not match its hash")
          }
          previous = d.hash
          start = nl + 1
          if e.seq < from || cursorAt != nil { continue }
          if entries.count + taken.count == limit {
            cursorAt = e.seq
            continue
          }
          taken.append(entry(e, header: header))
        }
        // Every returned entry is checked: the range's hashes must end where the index says.
        guard previous == r.after else {
          throw damaged(spath, "the records of this enrollment do not match their hashes")
        }
        entries += taken
        if let cursorAt {
          next = encodeCursor(seq: cursorAt, customerID: customerID.string, enrollmentID: enrollmentID)
          break segments
        }
      }
    }
    guard everSeen else { throw notFound }
    return QueryPage(enrollmentID: enrollmentID, entries: entries, nextCursor: next)
  }

  static func damaged(_ path: String, _ what: String) -> SendplanError {
    SendplanError(
      .badData, code: "audit_corrupt", path: path, message: "\(what); refusing to return unverified entries",
      fix: "verify the audit folder for details")
  }

  static func readHeader(_ path: String) throws(SendplanError) -> SegmentHeader {
    try headerLine(path).header
  }

  /// The segment's header record, its hash and the length of its line with the newline.
  static func headerLine(_ path: String) throws(SendplanError) -> (header: SegmentHeader, hash: Hash32, length: Int64) {
    var length = 4096
    while true {
      let bytes = try FS.read(path, offset: 0, length: length)
      if let nl = bytes.firstIndex(of: 0x0A) {
        guard let d = try? RecordDecoder.decode(bytes[0..<nl], previous: .zero), case .header(let h) = d.record,
          d.tagOK
        else { throw damaged(path, "the segment header is not valid") }
        return (h, d.hash, Int64(nl + 1))
      }
      guard bytes.count == length, length < 1 << 20 else { throw damaged(path, "the segment header is cut short") }
      length *= 4
    }
  }
}

extension String {
  func replacingOccurrences(_ a: Character, _ b: Character) -> String {
    String(map { $0 == a ? b : $0 })
  }
}
