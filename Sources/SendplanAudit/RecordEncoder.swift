import CSendplanSys
import SendplanEngine
import SendplanEvidence
import SendplanJSON
import SendplanModel

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

  mutating func header(
    segment: Int64, customerID: String, runID: String, timestamp: String, version: Int64 = RecordFormat.current
  ) {
    start = w.count
    w.raw("{\"n\":")
    w.int(seq)
    w.raw(",\"t\":\"segment\",")
    // Version 1 headers have no `v`; later ones name their version.
    if version > 1 {
      w.raw("\"v\":")
      w.int(version)
      w.byte(0x2C)
    }
    w.raw("\"segment\":")
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
    reason: String? = nil, errors: [String]? = nil, evidence: JSONValue? = nil
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
    if let evidence { self.evidence(EvidenceJSON.bytes(evidence)) }
    tally[type.position] += 1
    finish()
  }

  /// `,"evidence":` and the evidence object, already rendered canonically (``EvidenceJSON/bytes(_:)``).
  private func evidence(_ rendered: [UInt8]) {
    w.raw(",\"evidence\":")
    w.raw(rendered)
  }

  var counts: [EventType: Int] {
    var d: [EventType: Int] = [:]
    for (i, t) in EventType.allCases.enumerated() where tally[i] > 0 { d[t] = tally[i] }
    return d
  }

  /// The hot path: one item event, with the enrollment's `"e":"…"` member already encoded.
  mutating func item(
    _ status: ItemStatus, enrollmentMember: [UInt8], step: Int64, recipient: String, evidence: [UInt8]? = nil
  ) {
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
    if let evidence { self.evidence(evidence) }
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
