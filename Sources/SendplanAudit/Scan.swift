/// The result of reading one segment's bytes record by record.
struct SegmentScan {
  enum Problem: Equatable {
    /// Bytes after the last newline: what a crash mid-write leaves.
    case tornTail(offset: Int, bytes: Int)
    /// A record that is malformed, out of sequence or fails its hash, at a 1-based line.
    case bad(line: Int, offset: Int, what: String, hashOnly: Bool)
  }

  var header: SegmentHeader?
  var chain: Hash32
  var frontier: MerkleFrontier
  var counts: [EventType: Int] = [:]
  var index: [IndexEntry] = []
  /// Records read and accepted, header included.
  var records: Int64 = 0
  /// Bytes of whole, accepted lines.
  var validBytes = 0
  var problem: Problem?
  /// The line whose content does not match its hash, if that is the problem.
  var modified: [Int] = []

  /// Reads `bytes` as segment `number` of `customerID`'s stream, continuing from `chain` and `frontier`.
  /// Stops at the first problem: after a modified record the chain cannot be followed.
  static func read(
    _ bytes: [UInt8], number: Int64, customerID: String, chain: Hash32, frontier: MerkleFrontier
  ) -> SegmentScan {
    var s = SegmentScan(chain: chain, frontier: frontier)
    var start = 0
    var line = 0
    var currentEnrollment: String?
    let scratch = ByteWriter(capacity: 1024)
    while start < bytes.count {
      guard let nl = bytes[start...].firstIndex(of: 0x0A) else {
        s.problem = .tornTail(offset: start, bytes: bytes.count - start)
        return s
      }
      line += 1
      let expectedSeq = s.frontier.size
      do throws(RecordDecoder.Problem) {
        let (record, hash, tagOK) = try RecordDecoder.decode(bytes[start..<nl], previous: s.chain, scratch: scratch)
        if case .header(let h) = record, h.customerID != customerID {
          s.problem = .bad(
            line: line, offset: start,
            what: "the segment belongs to customer \(h.customerID.debugDescription), not to this stream's customer",
            hashOnly: false)
          return s
        }
        if record.seq != expectedSeq {
          s.problem = .bad(
            line: line, offset: start,
            what:
              "record number \(record.seq) where \(expectedSeq) was expected (a record was deleted, inserted or moved)",
            hashOnly: false)
          return s
        }
        switch record {
        case .header(let h):
          guard line == 1 else {
            s.problem = .bad(line: line, offset: start, what: "a segment header inside the segment", hashOnly: false)
            return s
          }
          guard h.segment == number else {
            s.problem = .bad(
              line: line, offset: start,
              what: "the header names segment \(h.segment), but the file is segment \(number)",
              hashOnly: false)
            return s
          }
          guard h.customerID == customerID else {
            s.problem = .bad(
              line: line, offset: start,
              what: "the segment belongs to customer \(h.customerID.debugDescription), not to this stream's customer",
              hashOnly: false)
            return s
          }
          guard h.prev == s.chain else {
            s.problem = .bad(
              line: line, offset: start, what: "the segment header does not continue the chain (prev differs)",
              hashOnly: false)
            return s
          }
          s.header = h
          if !tagOK {
            s.modified.append(line)
            s.problem = .bad(
              line: line, offset: start, what: "the record does not match its hash: modified", hashOnly: true)
            return s
          }
        case .event(let e):
          if !tagOK {
            s.modified.append(line)
            s.problem = .bad(
              line: line, offset: start,
              what: "the record does not match its hash: modified (the records after it cannot be checked)",
              hashOnly: true)
            return s
          }
          guard line > 1 else {
            s.problem = .bad(
              line: line, offset: start, what: "the segment does not start with a header", hashOnly: false)
            return s
          }
          if e.evidence != nil, let h = s.header, h.version < 2 {
            s.problem = .bad(
              line: line, offset: start, what: "evidence in a segment of record format version 1", hashOnly: false)
            return s
          }
          s.counts[e.type, default: 0] += 1
          if e.enrollmentID == currentEnrollment, var last = s.index.popLast() {
            last.count += 1
            last.length = Int64(nl + 1) - last.offset
            last.after = hash
            s.index.append(last)
          } else {
            currentEnrollment = e.enrollmentID
            s.index.append(
              IndexEntry(
                enrollmentID: e.enrollmentID, firstSeq: e.seq, count: 1, offset: Int64(start),
                length: Int64(nl + 1 - start), before: s.chain, after: hash))
          }
        }
        s.chain = hash
        s.frontier.append(hash)
        s.records += 1
        s.validBytes = nl + 1
      } catch {
        guard case .malformed(let m) = error else { return s }
        s.problem = .bad(line: line, offset: start, what: "malformed record: \(m)", hashOnly: false)
        return s
      }
      start = nl + 1
    }
    return s
  }
}
