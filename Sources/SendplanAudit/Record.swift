import CSendplanSys
import SendplanEngine
import SendplanJSON
import SendplanModel

/// The audit event types of the Stage 2A contract.
public enum EventType: String, Sendable, CaseIterable, Comparable {
  case dryRunPlanned = "dry_run_planned"
  case wouldSend = "would_send"
  case skipped
  case failedValidation = "failed_validation"
  case paused

  public static func < (a: EventType, b: EventType) -> Bool { a.rawValue < b.rawValue }

  var position: Int {
    switch self {
    case .dryRunPlanned: return 0
    case .wouldSend: return 1
    case .skipped: return 2
    case .failedValidation: return 3
    case .paused: return 4
    }
  }
}

/// The first record of every segment; binds the segment to its stream, run and place in the chain.
public struct SegmentHeader: Sendable, Equatable {
  public var seq: Int64
  public var segment: Int64
  public var customerID: String
  public var runID: String
  /// The run's `asOf`, RFC 3339 UTC.
  public var timestamp: String
  /// The chain head before this segment (all zeros for the first).
  public var prev: Hash32
}

/// One audit event as stored. Customer, run and timestamp come from the segment header.
public struct Event: Sendable, Equatable {
  public var seq: Int64
  public var type: EventType
  public var enrollmentID: String
  public var stepOrder: Int64?
  public var recipientID: String?
  public var recipientCount: Int64?
  public var reason: String?
  /// Enrollment-level error codes, only on an enrollment-level `failed_validation`.
  public var errors: [String]?
}

extension Event {
  /// Whether the optional members present are the ones its event type calls for.
  var hasTheFieldsOfItsType: Bool {
    switch type {
    case .dryRunPlanned:
      return stepOrder != nil && recipientCount != nil && recipientID == nil && reason == nil
    case .wouldSend:
      return stepOrder != nil && recipientID != nil && reason == nil && recipientCount == nil
    case .skipped, .paused, .failedValidation:
      return reason != nil && recipientCount == nil
    }
  }
}

/// A parsed record line.
public enum Record: Sendable, Equatable {
  case header(SegmentHeader)
  case event(Event)

  public var seq: Int64 {
    switch self {
    case .header(let h): return h.seq
    case .event(let e): return e.seq
    }
  }
}

/// Encodes records into lines: `{...fields...,"h":"<tag>"}` and a newline.
///
/// The body of a line is the line without its trailing `,"h":"…"` member, that is the fields
/// followed by `}`. A record's hash is SHA-256(0x00 || body || previous record's hash): the RFC 6962
/// leaf hash of the entry `body || previous hash`, so the chain link is part of every leaf. The line
/// stores the first 8 hex digits of it as a tag, to pinpoint a damaged record; the full hash of the
/// last record is sealed in the manifest and the checkpoint.
struct RecordEncoder {
  var chain: Hash32
  /// Builds the Merkle tree when encoding a segment; nil when decoding, which needs only the hashes.
  let tree: MerkleBuilder?
  var frontier: MerkleFrontier { tree?.frontier ?? MerkleFrontier() }
  var seq: Int64
  /// Indexed like `EventType.allCases`; an array because it is bumped once per record.
  private var tally = [Int](repeating: 0, count: EventType.allCases.count)
  /// Every line so far; the current record is encoded in place from `start`.
  let w: ByteWriter
  private var start = 0

  var out: [UInt8] { w.bytes }
  var count: Int { w.count }

  init(chain: Hash32, frontier: MerkleFrontier, capacity: Int = 512) {
    self.chain = chain
    self.tree = MerkleBuilder(frontier)
    self.seq = frontier.size
    w = ByteWriter(capacity: capacity)
  }

  /// An encoder writing into `writer`, emptied first; for decoding many lines without allocating.
  init(chain: Hash32, writer: ByteWriter) {
    self.chain = chain
    self.tree = nil
    self.seq = 0
    writer.reset()
    w = writer
  }

  mutating func header(segment: Int64, customerID: String, runID: String, timestamp: String) {
    start = w.count
    w.raw("{\"n\":")
    w.int(seq)
    w.raw(",\"t\":\"segment\",\"segment\":")
    w.int(segment)
    w.raw(",\"customerId\":")
    w.string(customerID)
    w.raw(",\"runId\":")
    w.string(runID)
    w.raw(",\"timestamp\":")
    w.string(timestamp)
    w.raw(",\"prev\":\"")
    w.hex(chain)
    w.byte(0x22)
    finish()
  }

  mutating func event(
    _ type: EventType, enrollment: String, step: Int64? = nil, recipient: String? = nil, count: Int64? = nil,
    reason: String? = nil, errors: [String]? = nil
  ) {
    start = w.count
    w.raw("{\"n\":")
    w.int(seq)
    w.raw(",\"t\":\"")
    w.raw(Array(type.rawValue.utf8))
    w.raw("\",\"e\":")
    w.string(enrollment)
    if let step {
      w.raw(",\"s\":")
      w.int(step)
    }
    if let recipient {
      w.raw(",\"r\":")
      w.string(recipient)
    }
    if let count {
      w.raw(",\"c\":")
      w.int(count)
    }
    if let reason {
      w.raw(",\"reason\":")
      w.string(reason)
    }
    if let errors {
      w.raw(",\"errors\":[")
      for (i, e) in errors.enumerated() {
        if i > 0 { w.byte(0x2C) }
        w.string(e)
      }
      w.byte(0x5D)
    }
    tally[type.position] += 1
    finish()
  }

  var counts: [EventType: Int] {
    var d: [EventType: Int] = [:]
    for (i, t) in EventType.allCases.enumerated() where tally[i] > 0 { d[t] = tally[i] }
    return d
  }

  /// The hot path: one item event, with the enrollment's `"e":"…"` member already encoded.
  mutating func item(_ status: ItemStatus, enrollmentMember: [UInt8], step: Int64, recipient: String) {
    start = w.count
    w.raw("{\"n\":")
    w.int(seq)
    let type: EventType
    switch status {
    case .wouldSend:
      type = .wouldSend
      w.raw(",\"t\":\"would_send\",")
    case .skipped:
      type = .skipped
      w.raw(",\"t\":\"skipped\",")
    case .failedValidation:
      type = .failedValidation
      w.raw(",\"t\":\"failed_validation\",")
    case .paused:
      type = .paused
      w.raw(",\"t\":\"paused\",")
    }
    w.raw(enrollmentMember)
    w.raw(",\"s\":")
    w.int(step)
    w.raw(",\"r\":")
    w.string(recipient)
    if let reason = status.reason {
      // Reason codes are fixed ASCII words; nothing to escape.
      w.raw(",\"reason\":\"")
      var r = reason
      r.withUTF8 { w.raw(UnsafeRawBufferPointer($0)) }
      w.byte(0x22)
    }
    tally[type.position] += 1
    finish()
  }

  /// `"e":"<escaped id>"` for the hot path.
  static func enrollmentMember(_ id: String) -> [UInt8] {
    let m = ByteWriter(capacity: 64)
    m.raw("\"e\":")
    m.string(id)
    return m.bytes
  }

  /// Hashes the open body (from `start`, still without its closing brace) and completes the line.
  private mutating func finish() {
    if let tree {
      chain = tree.record(openBody: w.buffer(from: start), previous: chain)
    } else {
      chain = RecordEncoder.recordHash(openBody: w.buffer(from: start), previous: chain)
    }
    w.raw(",\"h\":\"")
    w.hexTag(chain)
    w.raw("\"}\n")
    seq += 1
  }

  static let hashKey: [UInt8] = Array(",\"h\":\"".utf8)
  /// Hex digits of the record hash kept on each line.
  static let tagLength = 8

  /// SHA-256(0x00 || open || "}" || previous): the record hash and RFC 6962 leaf hash.
  static func recordHash(openBody open: UnsafeRawBufferPointer, previous: Hash32) -> Hash32 {
    var ctx = sendplan_sha256_ctx()
    sendplan_sha256_init(&ctx)
    var zero: UInt8 = 0
    var brace: UInt8 = 0x7D
    var prev = previous
    sendplan_sha256_update(&ctx, &zero, 1)
    sendplan_sha256_update(&ctx, open.baseAddress, open.count)
    sendplan_sha256_update(&ctx, &brace, 1)
    withUnsafeBytes(of: &prev) { sendplan_sha256_update(&ctx, $0.baseAddress, 32) }
    var h = Hash32.zero
    withUnsafeMutableBytes(of: &h) { p in
      if let base = p.baseAddress { sendplan_sha256_final(&ctx, base.assumingMemoryBound(to: UInt8.self)) }
    }
    return h
  }
}

/// One enrollment's records inside a segment, for the query index.
struct IndexEntry: Sendable, Equatable {
  var enrollmentID: String
  var firstSeq: Int64
  var count: Int64
  var offset: Int64
  var length: Int64
  /// The record hash before the first record and after the last, so a query can check the range alone.
  var before: Hash32
  var after: Hash32
}

/// The bytes and facts of one run's segment for one tenant.
struct BuiltSegment {
  /// The segment's bytes, kept in the encoder's buffer rather than copied.
  var writer: ByteWriter
  var count: Int { writer.count }
  var chainHead: Hash32
  var frontier: MerkleFrontier
  var counts: [EventType: Int]
  var index: [IndexEntry]
  var firstSeq: Int64
  var records: Int64
  var enrollments: Int
}

/// Turns a tenant plan into its audit events.
enum SegmentBuilder {
  /// Builds the whole segment deterministically from the stream state before it.
  ///
  /// Per enrollment: for each step, `dry_run_planned` (with the number of items of that step) and then
  /// one event per item, by recipient id. An enrollment with no steps but with errors gets one
  /// enrollment-level `failed_validation` carrying every code.
  static func build(
    plan: TenantPlan, segment: Int64, runID: String, chain: Hash32, frontier: MerkleFrontier
  ) -> BuiltSegment {
    var enc = RecordEncoder(
      chain: chain, frontier: frontier, capacity: 256 + plan.counts.items * 150 + plan.enrollments.count * 200)
    let first = enc.seq
    enc.header(
      segment: segment, customerID: plan.customerID.string, runID: runID, timestamp: plan.asOf.rfc3339)
    var index: [IndexEntry] = []
    index.reserveCapacity(plan.enrollments.count)
    for e in plan.enrollments {
      let startOffset = enc.count
      let startSeq = enc.seq
      let before = enc.chain
      let enr = e.enrollmentID.string
      if e.steps.isEmpty {
        if let firstError = e.errors.first {
          enc.event(
            .failedValidation, enrollment: enr, reason: firstError.rawValue, errors: e.errors.map(\.rawValue))
        }
      } else {
        var k = 0
        let member = RecordEncoder.enrollmentMember(enr)
        for (si, step) in e.steps.enumerated() {
          var end = k
          while end < e.items.count && Int(e.items[end].step) == si { end += 1 }
          enc.event(.dryRunPlanned, enrollment: enr, step: step.order, count: Int64(end - k))
          while k < end {
            let item = e.items[k]
            enc.item(
              item.status, enrollmentMember: member, step: step.order,
              recipient: e.recipients[Int(item.recipient)].id.string)
            k += 1
          }
        }
      }
      if enc.seq > startSeq {
        index.append(
          IndexEntry(
            enrollmentID: enr, firstSeq: startSeq, count: enc.seq - startSeq, offset: Int64(startOffset),
            length: Int64(enc.count - startOffset), before: before, after: enc.chain))
      }
    }
    return BuiltSegment(
      writer: enc.w, chainHead: enc.chain, frontier: enc.frontier, counts: enc.counts, index: index,
      firstSeq: first, records: enc.seq - first, enrollments: plan.enrollments.count)
  }
}

/// Reads record lines back, checking their form and hash.
enum RecordDecoder {
  enum Problem: Error, Equatable {
    /// Not a record line at all (bad JSON, missing fields, non-canonical form).
    case malformed(String)

  }

  /// Decodes one line (without its newline) and computes its hash from `previous`.
  /// Returns the record, its hash and whether the line's tag matches it; a mismatch is reported, not
  /// thrown, so a verifier can say which line is at fault.
  static func decode(
    _ line: ArraySlice<UInt8>, previous: Hash32, scratch: ByteWriter? = nil
  ) throws(Problem) -> (record: Record, hash: Hash32, tagOK: Bool) {
    let tail = 6 + RecordEncoder.tagLength + 2
    guard line.count > tail + 1 else { throw .malformed("too short for a record") }
    let tagStart = line.endIndex - tail
    guard line[tagStart..<tagStart + 6].elementsEqual(RecordEncoder.hashKey),
      line[line.endIndex - 2] == 0x22, line[line.endIndex - 1] == 0x7D
    else { throw .malformed("does not end with the \"h\" hash tag") }
    let tag = line[tagStart + 6..<line.endIndex - 2]
    let open = line[line.startIndex..<tagStart]
    let record: Record
    if let fast = FastRecord.event(open) {
      record = .event(fast)
    } else {
      let value: JSONValue
      do {
        value = try JSONParse.parse(Array(open) + [0x7D])
      } catch {
        throw .malformed("not valid JSON: \(error.message)")
      }
      record = try self.record(from: value)
    }
    // Only the canonical encoding is accepted, so one record has exactly one byte form.
    var enc =
      scratch.map { RecordEncoder(chain: previous, writer: $0) }
      ?? RecordEncoder(chain: previous, writer: ByteWriter(capacity: line.count + 64))
    enc.seq = record.seq
    switch record {
    case .header(let h):
      // The header carries its own `prev`; whether it continues the chain is the reader's check.
      enc.chain = h.prev
      enc.header(segment: h.segment, customerID: h.customerID, runID: h.runID, timestamp: h.timestamp)
    case .event(let e):
      enc.event(
        e.type, enrollment: e.enrollmentID, step: e.stepOrder, recipient: e.recipientID, count: e.recipientCount,
        reason: e.reason, errors: e.errors)
    }
    guard enc.count == line.count + 1,
      open.withUnsafeBytes({ $0.elementsEqual(UnsafeRawBufferPointer(start: enc.w.base, count: open.count)) })
    else {
      throw .malformed("not in canonical form")
    }
    let expected = enc.out[tagStart - line.startIndex + 6..<line.count - 2]
    return (record, enc.chain, expected.elementsEqual(tag))
  }

  static func record(from v: JSONValue) throws(Problem) -> Record {
    guard case .object(let o) = v else { throw .malformed("not an object") }
    guard let seq = o["n"]?.intValue, seq >= 0 else { throw .malformed("missing \"n\"") }
    guard let t = o["t"]?.stringValue else { throw .malformed("missing \"t\"") }
    if t == "segment" {
      guard let segment = o["segment"]?.intValue, let c = o["customerId"]?.stringValue,
        let r = o["runId"]?.stringValue, let ts = o["timestamp"]?.stringValue,
        let prevHex = o["prev"]?.stringValue, let prev = Hash32(hex: prevHex), o.count == 7
      else { throw .malformed("bad segment header") }
      return .header(
        SegmentHeader(seq: seq, segment: segment, customerID: c, runID: r, timestamp: ts, prev: prev))
    }
    guard let type = EventType(rawValue: t) else { throw .malformed("unknown event type \(t.debugDescription)") }
    guard let e = o["e"]?.stringValue else { throw .malformed("missing \"e\"") }
    var errors: [String]?
    if let a = o["errors"] {
      guard let list = a.arrayValue else { throw .malformed("bad \"errors\"") }
      var codes: [String] = []
      for x in list {
        guard let s = x.stringValue else { throw .malformed("bad \"errors\"") }
        codes.append(s)
      }
      errors = codes
    }
    let event = Event(
      seq: seq, type: type, enrollmentID: e, stepOrder: o["s"]?.intValue, recipientID: o["r"]?.stringValue,
      recipientCount: o["c"]?.intValue, reason: o["reason"]?.stringValue, errors: errors)
    let known = ["n", "t", "e", "s", "r", "c", "reason", "errors"]
    guard o.keys.allSatisfy(known.contains) else { throw .malformed("unknown field") }
    guard event.hasTheFieldsOfItsType else { throw .malformed("bad \(t) fields") }
    return .event(event)
  }
}

/// Reads an event line written in the canonical member order without building a JSON tree.
/// Returns nil for anything else (headers, escapes, unexpected members), which the generic reader
/// then handles or rejects.
enum FastRecord {
  static func event(_ b: ArraySlice<UInt8>) -> Event? {
    var i = b.startIndex
    let end = b.endIndex
    func expect(_ s: StaticString) -> Bool {
      let n = s.utf8CodeUnitCount
      guard end - i >= n else { return false }
      for k in 0..<n where b[i + k] != s.utf8Start[k] { return false }
      i += n
      return true
    }
    func int() -> Int64? {
      var v: Int64 = 0
      var digits = 0
      while i < end, b[i] >= 0x30, b[i] <= 0x39 {
        let (m, o1) = v.multipliedReportingOverflow(by: 10)
        let (a, o2) = m.addingReportingOverflow(Int64(b[i] - 0x30))
        if o1 || o2 { return nil }
        v = a
        digits += 1
        i += 1
      }
      return digits > 0 ? v : nil
    }
    func string() -> String? {
      guard i < end, b[i] == 0x22 else { return nil }
      i += 1
      let from = i
      while i < end, b[i] != 0x22 {
        if b[i] == 0x5C || b[i] < 0x20 { return nil }
        i += 1
      }
      guard i < end else { return nil }
      let s = String(validating: b[from..<i], as: UTF8.self)
      i += 1
      return s
    }
    guard expect("{\"n\":"), let seq = int(), expect(",\"t\":"), let t = string(), let type = EventType(rawValue: t),
      expect(",\"e\":"), let e = string()
    else { return nil }
    var event = Event(seq: seq, type: type, enrollmentID: e)
    if expect(",\"s\":") {
      guard let s = int() else { return nil }
      event.stepOrder = s
    }
    if expect(",\"r\":") {
      guard let r = string() else { return nil }
      event.recipientID = r
    }
    if expect(",\"c\":") {
      guard let c = int() else { return nil }
      event.recipientCount = c
    }
    if expect(",\"reason\":") {
      guard let r = string() else { return nil }
      event.reason = r
    }
    guard i == end else { return nil }
    return event.hasTheFieldsOfItsType ? event : nil
  }
}
