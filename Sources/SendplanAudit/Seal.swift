import Crypto
import SendplanDiagnostics
import SendplanJSON
import SendplanModel

/// The sealed facts of one segment: `NNNNNNNN.manifest.json`.
package struct SealManifest: Sendable, Equatable {
  package static let format = "sendplan-audit-manifest/1"
  package var customerID: String
  package var runID: String
  package var segment: Int64
  package var timestamp: String
  /// False when the run was interrupted and a later run sealed what it had written.
  package var complete: Bool
  package var firstRecord: Int64
  package var lastRecord: Int64
  package var counts: [EventType: Int]
  package var prevChainHead: Hash32
  package var chainHead: Hash32
  package var segmentBytes: Int64
  package var treeSize: Int64
  package var merkleRoot: Hash32
  package var frontier: [Hash32]
  package var keyID: String?

  var records: Int64 { lastRecord - firstRecord + 1 }

  func render() -> [UInt8] {
    var counts: [String: JSONValue] = [:]
    for t in EventType.allCases { counts[t.rawValue] = .int(Int64(self.counts[t] ?? 0)) }
    return JSONValue.object([
      "format": .string(Self.format),
      "customerId": .string(customerID),
      "runId": .string(runID),
      "segment": .int(segment),
      "timestamp": .string(timestamp),
      "complete": .bool(complete),
      "firstRecord": .int(firstRecord),
      "lastRecord": .int(lastRecord),
      "records": .int(records),
      "events": .object(counts),
      "prevChainHead": .string(prevChainHead.hex),
      "chainHead": .string(chainHead.hex),
      "segmentBytes": .int(segmentBytes),
      "treeSize": .int(treeSize),
      "merkleRoot": .string(merkleRoot.hex),
      "frontier": .array(frontier.map { .string($0.hex) }),
      "signed": .bool(keyID != nil),
      "keyId": keyID.map { .string($0) } ?? .null,
    ]).render()
  }

  static func parse(_ bytes: [UInt8]) -> SealManifest? {
    guard let v = try? JSONParse.parse(bytes), v["format"]?.stringValue == format,
      let c = v["customerId"]?.stringValue, let r = v["runId"]?.stringValue, let seg = v["segment"]?.intValue,
      let ts = v["timestamp"]?.stringValue, let complete = v["complete"]?.boolValue,
      let first = v["firstRecord"]?.intValue, let last = v["lastRecord"]?.intValue,
      let prev = v["prevChainHead"]?.stringValue.flatMap(Hash32.init(hex:)),
      let head = v["chainHead"]?.stringValue.flatMap(Hash32.init(hex:)),
      let size = v["segmentBytes"]?.intValue,
      let tree = v["treeSize"]?.intValue,
      let root = v["merkleRoot"]?.stringValue.flatMap(Hash32.init(hex:)),
      let frontierValues = v["frontier"]?.arrayValue,
      case .object(let eventCounts)? = v["events"]
    else { return nil }
    // A seal whose numbers are impossible is not a seal: refused here, so no reader does sums on them.
    guard (1...AuditLayout.maxSegment).contains(seg), first >= 0, last >= first, last < AuditLayout.maxRecords,
      tree == last + 1, (0..<AuditLayout.maxSegmentBytes).contains(size), frontierValues.count <= 64
    else { return nil }
    var frontier: [Hash32] = []
    for f in frontierValues {
      guard let h = f.stringValue.flatMap(Hash32.init(hex:)) else { return nil }
      frontier.append(h)
    }
    var counts: [EventType: Int] = [:]
    for (k, n) in eventCounts {
      guard let t = EventType(rawValue: k), let n = n.intValue, (0...AuditLayout.maxRecords).contains(n) else {
        return nil
      }
      if n > 0 { counts[t] = Int(n) }
    }
    return SealManifest(
      customerID: c, runID: r, segment: seg, timestamp: ts, complete: complete, firstRecord: first,
      lastRecord: last, counts: counts, prevChainHead: prev, chainHead: head, segmentBytes: size,
      treeSize: tree, merkleRoot: root, frontier: frontier, keyID: v["keyId"]?.stringValue)
  }
}

/// A signed tree head: `NNNNNNNN.checkpoint`.
///
/// Written as a C2SP tlog-checkpoint in a signed note (see `CheckpointNote.swift` and
/// docs/audit.md). Streams written before that hold the legacy form, which is still read and
/// verified: eight lines, each ending in a newline,
/// `sendplan-audit-checkpoint/1`, `customer <hex of the customer id's UTF-8>`, `segment <n>`,
/// `size <tree size>`, `root <Merkle root hex>`, `chain <chain head hex>`, `run <run id>`, `time <asOf>`,
/// a blank line, then one line: `ed25519 <key id> <base64 public key> <base64 signature>`, or `unsigned`.
package struct Checkpoint: Sendable, Equatable {
  package var customerID: String
  package var segment: Int64
  package var treeSize: Int64
  package var root: Hash32
  package var chainHead: Hash32
  package var runID: String
  package var time: String
  package var signature: Signature?
  /// True for the pre-note form.
  package var legacy = false
  /// Signature lines of the note other than the log's own (witness cosignatures), kept as found.
  package var otherSignatures: [SignedNote.Line] = []

  package struct Signature: Sendable, Equatable {
    package var keyID: String
    package var publicKey: [UInt8]
    package var value: [UInt8]
    /// The note key name (note form only).
    package var keyName: String?
  }

  package init(
    customerID: String, segment: Int64, treeSize: Int64, root: Hash32, chainHead: Hash32, runID: String,
    time: String, signature: Signature?
  ) {
    self.customerID = customerID
    self.segment = segment
    self.treeSize = treeSize
    self.root = root
    self.chainHead = chainHead
    self.runID = runID
    self.time = time
    self.signature = signature
  }

  /// The signed text.
  var body: [UInt8] { legacy ? legacyBody : noteText(key: signatureNoteKey) }

  var legacyBody: [UInt8] {
    let customerHex = Hex.encode(customerID.utf8)
    return Array(
      """
      sendplan-audit-checkpoint/1
      customer \(customerHex)
      segment \(segment)
      size \(treeSize)
      root \(root.hex)
      chain \(chainHead.hex)
      run \(runID)
      time \(time)

      """.utf8)
  }

  mutating func sign(with key: Curve25519.Signing.PrivateKey?) throws(SendplanError) {
    guard let key else {
      signature = nil
      return
    }
    do {
      let name = AuditKeys.logKeyName
      if !legacy {
        signature = Signature(
          keyID: AuditKeys.keyID(key.publicKey), publicKey: Array(key.publicKey.rawRepresentation), value: [],
          keyName: name)
      }
      let sig = try key.signature(for: body)
      signature = Signature(
        keyID: AuditKeys.keyID(key.publicKey), publicKey: Array(key.publicKey.rawRepresentation), value: Array(sig),
        keyName: legacy ? nil : name)
    } catch {
      throw SendplanError(
        .badData, code: "sign_failed", path: "", message: "cannot sign the checkpoint: \(error)",
        fix: "check the signing key")
    }
  }

  package func render() -> [UInt8] {
    if !legacy { return note.render() }
    var out = body
    out.append(0x0A)
    if let s = signature {
      out.append(contentsOf: "ed25519 \(s.keyID) \(Base64.encode(s.publicKey)) \(Base64.encode(s.value))\n".utf8)
    } else {
      out.append(contentsOf: "unsigned\n".utf8)
    }
    return out
  }

  /// Whether the signature is valid for the body, by the embedded key or by `trusted` when given.
  package func signatureValid(trusted: Curve25519.Signing.PublicKey?) -> Bool {
    guard let s = signature else { return false }
    let key: Curve25519.Signing.PublicKey
    if let trusted {
      key = trusted
    } else {
      guard let k = try? Curve25519.Signing.PublicKey(rawRepresentation: s.publicKey) else { return false }
      key = k
    }
    return key.isValidSignature(s.value, for: body)
  }

  package static func parse(_ bytes: [UInt8]) -> Checkpoint? {
    if !bytes.starts(with: Array("sendplan-audit-checkpoint/1\n".utf8)) { return parseNote(bytes) }
    let text = String(decoding: bytes, as: UTF8.self)
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    guard lines.count == 11, lines[0] == "sendplan-audit-checkpoint/1", lines[8].isEmpty, lines[10].isEmpty else {
      return nil
    }
    func field(_ i: Int, _ name: String) -> String? {
      let prefix = name + " "
      guard lines[i].hasPrefix(prefix) else { return nil }
      return String(lines[i].dropFirst(prefix.count))
    }
    guard let customerHex = field(1, "customer"), customerHex.utf8.count % 2 == 0,
      let segment = field(2, "segment").flatMap({ Int64($0) }),
      let size = field(3, "size").flatMap({ Int64($0) }),
      let root = field(4, "root").flatMap({ Hash32(hex: $0) }),
      let chain = field(5, "chain").flatMap({ Hash32(hex: $0) }),
      let run = field(6, "run"), let time = field(7, "time")
    else { return nil }
    guard let idBytes = Hex.decode(customerHex.utf8), let customer = String(validating: idBytes, as: UTF8.self),
      (1...AuditLayout.maxSegment).contains(segment), (0...AuditLayout.maxRecords).contains(size)
    else {
      return nil
    }
    var cp = Checkpoint(
      customerID: customer, segment: segment, treeSize: size, root: root, chainHead: chain, runID: run, time: time,
      signature: nil)
    cp.legacy = true
    guard cp.body.elementsEqual(text.utf8.prefix(cp.body.count)) else { return nil }
    if lines[9] != "unsigned" {
      let parts = lines[9].split(separator: " ")
      guard parts.count == 4, parts[0] == "ed25519", let pub = Base64.decode(parts[2]), pub.count == 32,
        let sig = Base64.decode(parts[3]), sig.count == 64
      else { return nil }
      cp.signature = Signature(keyID: String(parts[1]), publicKey: pub, value: sig)
    }
    return cp
  }
}

/// `head.json`: the stream's latest sealed state and the runs it holds. Derived from the manifests,
/// rewritten at every seal; it is the point at which a seal counts as committed.
struct StreamHead: Sendable, Equatable {
  static let format = "sendplan-audit-head/1"
  var customerID: String
  var segment: Int64
  var treeSize: Int64
  var chainHead: Hash32
  var frontier: [Hash32]
  /// Run id to segment number.
  var runs: [String: Int64]
  /// Bytes of all sealed segments; saves a stat of every segment each night. Absent in older heads.
  var streamBytes: Int64?

  func render() -> [UInt8] {
    var o: [String: JSONValue] = [
      "format": .string(Self.format),
      "customerId": .string(customerID),
      "segment": .int(segment),
      "treeSize": .int(treeSize),
      "chainHead": .string(chainHead.hex),
      "frontier": .array(frontier.map { .string($0.hex) }),
      "runs": .object(runs.mapValues { .int($0) }),
    ]
    if let streamBytes { o["streamBytes"] = .int(streamBytes) }
    return JSONValue.object(o).render()
  }

  static func parse(_ bytes: [UInt8]) -> StreamHead? {
    guard let v = try? JSONParse.parse(bytes), v["format"]?.stringValue == format,
      let c = v["customerId"]?.stringValue, let seg = v["segment"]?.intValue, let size = v["treeSize"]?.intValue,
      let head = v["chainHead"]?.stringValue.flatMap(Hash32.init(hex:)),
      let fv = v["frontier"]?.arrayValue, case .object(let rv)? = v["runs"],
      (1...AuditLayout.maxSegment).contains(seg), (1...AuditLayout.maxRecords).contains(size),
      fv.count == size.nonzeroBitCount
    else { return nil }
    var frontier: [Hash32] = []
    for f in fv {
      guard let h = f.stringValue.flatMap(Hash32.init(hex:)) else { return nil }
      frontier.append(h)
    }
    var runs: [String: Int64] = [:]
    for (k, s) in rv {
      guard let s = s.intValue, (1...seg).contains(s) else { return nil }
      runs[k] = s
    }
    var bytes: Int64?
    if let b = v["streamBytes"] {
      guard let n = b.intValue, (0..<AuditLayout.maxSegmentBytes).contains(n) else { return nil }
      bytes = n
    }
    return StreamHead(
      customerID: c, segment: seg, treeSize: size, chainHead: head, frontier: frontier, runs: runs, streamBytes: bytes)
  }
}
