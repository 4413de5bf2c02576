import Crypto
import SendplanModel

/// The checkpoint as a C2SP tlog-checkpoint in a signed note:
///
/// ```
/// sendplan.audit/<customer id, percent-escaped>
/// <tree size>
/// <base64 Merkle root>
/// segment <N>
/// chain <chain head hex>
/// run <run id, percent-escaped>
/// time <as-of, RFC 3339 UTC>
/// key <the signer's note verifier key>        (signed checkpoints only)
///
/// — sendplan.audit <base64(key hash || Ed25519 signature)>
/// — <witness name> <base64(key hash || timestamp || signature)>   (cosignatures, any number)
/// ```
extension Checkpoint {
  /// `sendplan.audit/` followed by the escaped customer id.
  package static func origin(_ customerID: String) -> String { "sendplan.audit/" + escape(customerID) }

  package var origin: String { Self.origin(customerID) }

  /// Percent-escapes every byte but ASCII letters, digits and `-._~`, so the line has no space, `+` or control.
  static func escape(_ s: String) -> String {
    var out: [UInt8] = []
    let hex = Array("0123456789ABCDEF".utf8)
    for b in s.utf8 {
      switch b {
      case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x2D, 0x2E, 0x5F, 0x7E: out.append(b)
      default: out += [0x25, hex[Int(b >> 4)], hex[Int(b & 15)]]
      }
    }
    return String(decoding: out, as: UTF8.self)
  }

  static func unescape(_ s: Substring) -> String? {
    var out: [UInt8] = []
    var it = Array(s.utf8)[...]
    while let b = it.popFirst() {
      if b == 0x25 {
        guard it.count >= 2, let v = UInt8(String(decoding: it.prefix(2), as: UTF8.self), radix: 16) else { return nil }
        out.append(v)
        it = it.dropFirst(2)
      } else {
        out.append(b)
      }
    }
    guard let text = String(validating: out, as: UTF8.self), escape(text) == String(s) else { return nil }
    return text
  }

  /// The key that signed a note-form checkpoint, from its signature.
  var signatureNoteKey: NoteKey? {
    guard let s = signature, let key = try? Curve25519.Signing.PublicKey(rawRepresentation: s.publicKey) else {
      return nil
    }
    return NoteKey(name: s.keyName ?? AuditKeys.logKeyName, algorithm: NoteKey.ed25519, publicKey: key)
  }

  func noteText(key: NoteKey?) -> [UInt8] {
    var t = "\(origin)\n\(treeSize)\n\(Base64.encode(root.bytes))\n"
    t += "segment \(segment)\nchain \(chainHead.hex)\nrun \(Self.escape(runID))\ntime \(time)\n"
    if let key { t += "key \(key.text)\n" }
    return Array(t.utf8)
  }

  /// The signed note of a note-form checkpoint.
  package var note: SignedNote {
    var lines: [SignedNote.Line] = []
    if let s = signature, let key = signatureNoteKey {
      lines.append(SignedNote.Line(name: key.name, keyHash: key.keyHash, payload: s.value))
    }
    return SignedNote(text: body, signatures: lines + otherSignatures)
  }

  static func parseNote(_ bytes: [UInt8]) -> Checkpoint? {
    guard let note = SignedNote.parse(bytes) else { return nil }
    let lines = String(decoding: note.text, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
      .dropLast()
    guard lines.count == 7 || lines.count == 8, lines[0].hasPrefix("sendplan.audit/"),
      let customer = unescape(lines[0].dropFirst("sendplan.audit/".count)),
      let size = Int64(lines[1]), size >= 0,
      let rootBytes = Base64.decode(lines[2]), let root = Hash32(bytes: rootBytes)
    else { return nil }
    func field(_ i: Int, _ name: String) -> Substring? {
      guard lines[i].hasPrefix(name + " ") else { return nil }
      return lines[i].dropFirst(name.count + 1)
    }
    guard let segment = field(3, "segment").flatMap({ Int64($0) }),
      let chain = field(4, "chain").flatMap({ Hash32(hex: String($0)) }),
      let run = field(5, "run").flatMap(unescape), let time = field(6, "time")
    else { return nil }
    var cp = Checkpoint(
      customerID: customer, segment: segment, treeSize: size, root: root, chainHead: chain, runID: run,
      time: String(time), signature: nil)
    var others = note.signatures
    if lines.count == 8 {
      guard let k = field(7, "key").flatMap(NoteKey.parse), k.algorithm == NoteKey.ed25519 else { return nil }
      // The log's own line is the one of the key named in the text; a checkpoint signed by its key is
      // valid only with that line present.
      guard let i = others.firstIndex(where: { $0.name == k.name && $0.keyHash == k.keyHash }),
        others[i].payload.count == 64
      else { return nil }
      cp.signature = Signature(
        keyID: AuditKeys.keyID(k.publicKey), publicKey: Array(k.publicKey.rawRepresentation),
        value: others[i].payload, keyName: k.name)
      others.remove(at: i)
    }
    cp.otherSignatures = others
    // One spelling only: the text must be exactly what this checkpoint renders.
    guard cp.body == note.text else { return nil }
    return cp
  }

  /// The log key of this checkpoint as a note verifier key, when signed.
  package var verifierKey: String? { legacy ? nil : signatureNoteKey?.text }
}
