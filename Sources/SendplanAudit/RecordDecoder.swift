import CSendplanSys
import SendplanEngine
import SendplanJSON
import SendplanModel

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
    // Numbers beyond any real stream are refused before the encoder counts on from them.
    guard (0..<AuditLayout.maxRecords).contains(record.seq) else { throw .malformed("record number out of range") }
    if case .header(let h) = record, !(1...AuditLayout.maxSegment).contains(h.segment) {
      throw .malformed("segment number out of range")
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
      enc.header(
        segment: h.segment, customerID: h.customerID, runID: h.runID, timestamp: h.timestamp, version: h.version)
    case .event(let e):
      enc.event(
        e.type, enrollment: e.enrollmentID, step: e.stepOrder, recipient: e.recipientID, count: e.recipientCount,
        reason: e.reason, errors: e.errors, evidence: e.evidence)
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
        let prevHex = o["prev"]?.stringValue, let prev = Hash32(hex: prevHex)
      else { throw .malformed("bad segment header") }
      // Version 1 has no `v`; a `v` of 1 would be a second spelling, so it is not accepted.
      let version = o["v"].map { $0.intValue ?? 0 } ?? 1
      guard o.count == (o["v"] == nil ? 7 : 8), RecordFormat.known.contains(version), o["v"] == nil || version > 1
      else { throw .malformed("bad segment header (unknown record format version?)") }
      return .header(
        SegmentHeader(
          seq: seq, version: version, segment: segment, customerID: c, runID: r, timestamp: ts, prev: prev))
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
    var evidence: JSONValue?
    if let x = o["evidence"] {
      guard case .object = x else { throw .malformed("bad \"evidence\"") }
      evidence = x
    }
    let event = Event(
      seq: seq, type: type, enrollmentID: e, stepOrder: o["s"]?.intValue, recipientID: o["r"]?.stringValue,
      recipientCount: o["c"]?.intValue, reason: o["reason"]?.stringValue, errors: errors, evidence: evidence)
    let known = ["n", "t", "e", "s", "r", "c", "reason", "errors", "evidence"]
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
