import Crypto
import SendplanModel

/// C2SP signed notes (https://c2sp.org/signed-note): a UTF-8 text of newline-terminated lines, a
/// blank line, then one line per signature, `— <key name> <base64(key hash || signature)>`.
///
/// Two kinds of Ed25519 signature are used here: the log's own (algorithm byte 0x01, signing the
/// text) and witness cosignatures (C2SP tlog-cosignature v1, algorithm byte 0x04, signing
/// `cosignature/v1\ntime <t>\n` followed by the text, with an 8-byte big-endian timestamp before
/// the signature).
package struct SignedNote: Sendable, Equatable {
  /// Lines of text, each ending in a newline.
  package var text: [UInt8]
  package var signatures: [Line]

  /// One signature line.
  package struct Line: Sendable, Equatable {
    package var name: String
    package var keyHash: UInt32
    /// The bytes after the key hash: the signature (and, for a cosignature, the timestamp first).
    package var payload: [UInt8]

    /// The line as written, newline included.
    var rendered: [UInt8] {
      let raw =
        [UInt8(keyHash >> 24), UInt8(keyHash >> 16 & 255), UInt8(keyHash >> 8 & 255), UInt8(keyHash & 255)]
        + payload
      return Array("\u{2014} \(name) \(Base64.encode(raw))\n".utf8)
    }
  }

  package init(text: [UInt8], signatures: [Line] = []) {
    self.text = text
    self.signatures = signatures
  }

  package func render() -> [UInt8] {
    var out = text
    out.append(0x0A)
    for s in signatures { out += s.rendered }
    return out
  }

  /// Parses a note the way Go's `note.Open` does: valid UTF-8, no control character but newline, the
  /// text up to the last blank line, then only well-formed signature lines.
  package static func parse(_ bytes: [UInt8]) -> SignedNote? {
    guard let s = String(validating: bytes, as: UTF8.self),
      !s.unicodeScalars.contains(where: { $0.value < 0x20 && $0.value != 0x0A })
    else { return nil }
    var split: Int?
    if bytes.count >= 2 {
      for i in stride(from: bytes.count - 2, through: 0, by: -1) where bytes[i] == 0x0A && bytes[i + 1] == 0x0A {
        split = i
        break
      }
    }
    guard let split else { return nil }
    let text = Array(bytes[...split])
    let sigs = bytes[(split + 2)...]
    if !sigs.isEmpty && sigs.last != 0x0A { return nil }
    var lines: [Line] = []
    for raw in sigs.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast() {
      let line = String(decoding: raw, as: UTF8.self)
      guard line.hasPrefix("\u{2014} ") else { return nil }
      let rest = line.dropFirst(2)
      guard let space = rest.firstIndex(of: " ") else { return nil }
      let name = String(rest[..<space])
      guard NoteKey.validName(name), let sig = Base64.decode(rest[rest.index(after: space)...]), sig.count >= 5
      else { return nil }
      let hash = UInt32(sig[0]) << 24 | UInt32(sig[1]) << 16 | UInt32(sig[2]) << 8 | UInt32(sig[3])
      lines.append(Line(name: name, keyHash: hash, payload: Array(sig[4...])))
    }
    // Text lines are non-empty; a blank line is only the separator.
    guard text.first != 0x0A, !text.isEmpty else { return nil }
    return SignedNote(text: text, signatures: lines)
  }

  /// Adds the log's Ed25519 signature.
  package mutating func sign(_ key: Curve25519.Signing.PrivateKey, name: String) throws {
    let sig = try key.signature(for: text)
    signatures.append(
      Line(
        name: name, keyHash: NoteKey.hash(name: name, algorithm: NoteKey.ed25519, key: key.publicKey),
        payload: Array(sig))
    )
  }

  /// Whether `key` signed the text (a line with its name and hash whose signature verifies).
  package func signed(by key: NoteKey) -> Bool? {
    guard key.algorithm == NoteKey.ed25519 else { return nil }
    guard let line = signatures.first(where: { $0.name == key.name && $0.keyHash == key.keyHash }) else {
      return nil
    }
    return key.publicKey.isValidSignature(line.payload, for: text)
  }

  /// The message a tlog-cosignature/v1 signs.
  static func cosignedMessage(_ text: [UInt8], time: UInt64) -> [UInt8] {
    Array("cosignature/v1\ntime \(time)\n".utf8) + text
  }

  /// Adds (or replaces) a witness cosignature made at `time` (POSIX seconds).
  package mutating func cosign(_ key: Curve25519.Signing.PrivateKey, name: String, time: UInt64) throws {
    let sig = try key.signature(for: Self.cosignedMessage(text, time: time))
    var payload: [UInt8] = []
    for shift in stride(from: 56, through: 0, by: -8) { payload.append(UInt8(time >> UInt64(shift) & 255)) }
    payload += Array(sig)
    let hash = NoteKey.hash(name: name, algorithm: NoteKey.cosignature, key: key.publicKey)
    signatures.removeAll { $0.name == name && $0.keyHash == hash }
    signatures.append(Line(name: name, keyHash: hash, payload: payload))
  }

  /// The cosignature time when `key` (a witness key) cosigned the text; nil when it did not, false in
  /// `valid` when a line with its name and hash is there but does not verify.
  package func cosignature(by key: NoteKey) -> (valid: Bool, time: UInt64)? {
    guard key.algorithm == NoteKey.cosignature,
      let line = signatures.first(where: { $0.name == key.name && $0.keyHash == key.keyHash })
    else { return nil }
    guard line.payload.count == 72 else { return (false, 0) }
    let time = line.payload[..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    let ok = key.publicKey.isValidSignature(
      Array(line.payload[8...]), for: Self.cosignedMessage(text, time: time))
    return (ok, time)
  }
}

/// A note verifier key: `<name>+<8 hex digits of the key hash>+<base64(algorithm byte || public key)>`.
/// The key hash is the first 4 bytes of SHA-256(name || 0x0A || algorithm byte || public key).
package struct NoteKey: @unchecked Sendable {
  /// Ed25519 note signature (signed-note).
  package static let ed25519: UInt8 = 0x01
  /// Ed25519 timestamped cosignature (tlog-cosignature v1).
  package static let cosignature: UInt8 = 0x04

  package let name: String
  package let algorithm: UInt8
  package let publicKey: Curve25519.Signing.PublicKey

  package init(name: String, algorithm: UInt8, publicKey: Curve25519.Signing.PublicKey) {
    self.name = name
    self.algorithm = algorithm
    self.publicKey = publicKey
  }

  package var keyHash: UInt32 { Self.hash(name: name, algorithm: algorithm, key: publicKey) }

  package static func hash(name: String, algorithm: UInt8, key: Curve25519.Signing.PublicKey) -> UInt32 {
    let d = Hash32.sha256(Array(name.utf8) + [0x0A, algorithm] + Array(key.rawRepresentation)).bytes
    return UInt32(d[0]) << 24 | UInt32(d[1]) << 16 | UInt32(d[2]) << 8 | UInt32(d[3])
  }

  /// The verifier key text.
  package var text: String {
    let h = String(keyHash, radix: 16)
    return
      "\(name)+\(String(repeating: "0", count: 8 - h.count) + h)+\(Base64.encode([algorithm] + Array(publicKey.rawRepresentation)))"
  }

  /// Parses a verifier key, checking its hash.
  package static func parse(_ text: some StringProtocol) -> NoteKey? {
    let parts = text.split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
    guard parts.count == 3, validName(String(parts[0])), parts[1].utf8.count == 8,
      let hash = UInt32(parts[1], radix: 16), let raw = Base64.decode(parts[2]), raw.count == 33,
      raw[0] == ed25519 || raw[0] == cosignature,
      let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw[1...])
    else { return nil }
    let k = NoteKey(name: String(parts[0]), algorithm: raw[0], publicKey: key)
    return k.keyHash == hash ? k : nil
  }

  /// Non-empty, no Unicode white space, no `+`.
  package static func validName(_ name: String) -> Bool {
    !name.isEmpty && !name.contains("+") && !name.unicodeScalars.contains(where: \.properties.isWhitespace)
  }
}
