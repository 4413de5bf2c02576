import Crypto
import SendplanDiagnostics
import SendplanFileSystem

#if canImport(Glibc)
  import Glibc
#endif

/// Base64 (RFC 4648, with padding), written here to keep Foundation out of the library.
enum Base64 {
  private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

  static func encode(_ data: [UInt8]) -> String {
    var out: [UInt8] = []
    var i = 0
    while i + 3 <= data.count {
      let v = UInt32(data[i]) << 16 | UInt32(data[i + 1]) << 8 | UInt32(data[i + 2])
      for s in [18, 12, 6, 0] { out.append(alphabet[Int(v >> UInt32(s) & 63)]) }
      i += 3
    }
    let rest = data.count - i
    if rest > 0 {
      let v = UInt32(data[i]) << 16 | (rest == 2 ? UInt32(data[i + 1]) << 8 : 0)
      out.append(alphabet[Int(v >> 18 & 63)])
      out.append(alphabet[Int(v >> 12 & 63)])
      out.append(rest == 2 ? alphabet[Int(v >> 6 & 63)] : 0x3D)
      out.append(0x3D)
    }
    return String(decoding: out, as: UTF8.self)
  }

  static func decode(_ text: some StringProtocol) -> [UInt8]? {
    let s = Array(text.utf8)
    guard s.count % 4 == 0 else { return nil }
    var out: [UInt8] = []
    var i = 0
    while i < s.count {
      var v: UInt32 = 0
      var pad = 0
      for k in 0..<4 {
        let c = s[i + k]
        var d: UInt32 = 0
        if c == 0x3D {
          guard i + 4 == s.count, k >= 2 else { return nil }
          pad += 1
        } else {
          guard pad == 0, let idx = alphabet.firstIndex(of: c) else { return nil }
          d = UInt32(idx)
        }
        v = v << 6 | d
      }
      out.append(UInt8(v >> 16 & 255))
      if pad < 2 { out.append(UInt8(v >> 8 & 255)) }
      if pad < 1 { out.append(UInt8(v & 255)) }
      i += 4
    }
    return out
  }
}

/// Key files for signing checkpoints with Ed25519.
///
/// Private: `sendplan-audit-ed25519-private-key/1`, a newline, the base64 32-byte seed, a newline.
/// Public: `sendplan-audit-ed25519-public-key/1`, a newline, the base64 32-byte key, a newline.
package enum AuditKeys {
  static let privateTag = "sendplan-audit-ed25519-private-key/1"
  static let publicTag = "sendplan-audit-ed25519-public-key/1"
  static let witnessTag = "sendplan-audit-witness-key/1"

  /// The note key name every checkpoint signature carries.
  package static let logKeyName = "sendplan.audit"

  /// The log key as a note verifier key (`FILE.vkey`).
  package static func verifierKey(_ key: Curve25519.Signing.PublicKey) -> NoteKey {
    NoteKey(name: logKeyName, algorithm: NoteKey.ed25519, publicKey: key)
  }

  /// A witness's private key file: the tag, `name <witness name>`, the base64 seed, each on a line.
  package static func witnessKeyFile(_ key: Curve25519.Signing.PrivateKey, name: String) -> [UInt8] {
    Array("\(witnessTag)\nname \(name)\n\(Base64.encode(Array(key.rawRepresentation)))\n".utf8)
  }

  /// Loads a witness's private key and name, refusing files that group or others can read.
  package static func loadWitness(_ path: String) throws(SendplanError) -> (
    name: String, key: Curve25519.Signing.PrivateKey
  ) {
    guard let bytes = try FS.read(path) else {
      throw SendplanError(
        .badData, code: "key_missing", path: path, message: "the witness key file does not exist",
        fix: "create one with audit keygen --witness NAME")
    }
    if let mode = FS.mode(path), mode & 0o077 != 0 {
      throw SendplanError(
        .badData, code: "key_permissions", path: path,
        message: "the witness key is readable by other users (mode \(String(mode & 0o777, radix: 8)))",
        fix: "chmod 600 \(path)")
    }
    let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
    guard lines.count == 4, lines[0] == witnessTag, lines[1].hasPrefix("name "), lines[3].isEmpty,
      NoteKey.validName(String(lines[1].dropFirst(5))), let raw = Base64.decode(lines[2]), raw.count == 32,
      let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw)
    else {
      throw SendplanError(
        .badData, code: "bad_key_file", path: path, message: "not a sendplan witness key file",
        fix: "create one with audit keygen --witness NAME")
    }
    return (String(lines[1].dropFirst(5)), key)
  }

  /// Loads a note verifier key: a file holding one (`FILE.vkey`), a sendplan public key file (named
  /// `sendplan.audit`), or the verifier key text itself.
  package static func loadNoteKey(_ pathOrKey: String) throws(SendplanError) -> NoteKey {
    if !FS.exists(pathOrKey), let k = NoteKey.parse(pathOrKey) { return k }
    guard let bytes = try FS.read(pathOrKey) else {
      throw SendplanError(
        .badData, code: "key_missing", path: pathOrKey, message: "the key file does not exist",
        fix: "pass a .vkey or .pub file written by audit keygen, or a verifier key name+hash+key")
    }
    if bytes.starts(with: Array(publicTag.utf8)) {
      return verifierKey(try loadPublic(pathOrKey))
    }
    var text = String(decoding: bytes, as: UTF8.self)
    while text.hasSuffix("\n") { text.removeLast() }
    guard let k = NoteKey.parse(text) else {
      throw SendplanError(
        .badData, code: "bad_key_file", path: pathOrKey, message: "not a note verifier key (name+hash+base64 key)",
        fix: "pass a .vkey or .pub file written by audit keygen")
    }
    return k
  }

  package static func privateKeyFile(_ key: Curve25519.Signing.PrivateKey) -> [UInt8] {
    Array("\(privateTag)\n\(Base64.encode(Array(key.rawRepresentation)))\n".utf8)
  }

  package static func publicKeyFile(_ key: Curve25519.Signing.PublicKey) -> [UInt8] {
    Array("\(publicTag)\n\(Base64.encode(Array(key.rawRepresentation)))\n".utf8)
  }

  /// First 16 hex digits of SHA-256 over the raw public key.
  package static func keyID(_ key: Curve25519.Signing.PublicKey) -> String {
    String(Hash32.sha256(Array(key.rawRepresentation)).hex.prefix(16))
  }

  static func body(_ bytes: [UInt8], tag: String, path: String) throws(SendplanError) -> [UInt8] {
    let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
    guard lines.count >= 2, lines[0] == tag, let raw = Base64.decode(lines[1]), raw.count == 32,
      lines.dropFirst(2).allSatisfy(\.isEmpty)
    else {
      throw SendplanError(
        .badData, code: "bad_key_file", path: path,
        message: "not a sendplan \(tag.contains("private") ? "private" : "public") key file",
        fix: "create a key pair with the audit keygen command")
    }
    return raw
  }

  /// Loads a private key, refusing files that group or others can read.
  package static func loadPrivate(_ path: String) throws(SendplanError) -> Curve25519.Signing.PrivateKey {
    let raw = try rawKey(
      path, tag: privateTag, missingFix: "create one at \(path) with the audit keygen command", private: true)
    do {
      return try Curve25519.Signing.PrivateKey(rawRepresentation: raw)
    } catch {
      throw SendplanError(
        .badData, code: "bad_key", path: path, message: "not a valid Ed25519 key", fix: "create a new key")
    }
  }

  package static func loadPublic(_ path: String) throws(SendplanError) -> Curve25519.Signing.PublicKey {
    let raw = try rawKey(
      path, tag: publicTag, missingFix: "use the .pub file written by the audit keygen command", private: false)
    do {
      return try Curve25519.Signing.PublicKey(rawRepresentation: raw)
    } catch {
      throw SendplanError(
        .badData, code: "bad_key", path: path, message: "not a valid Ed25519 key", fix: "use the .pub file")
    }
  }

  /// The 32 key bytes of a key file.
  static func rawKey(_ path: String, tag: String, missingFix: String, private: Bool) throws(SendplanError) -> [UInt8] {
    // A key file is under 100 bytes; a large one is not read into memory.
    if let size = FS.size(path), size > 4096 {
      throw SendplanError(
        .badData, code: "bad_key_file", path: path, message: "not a sendplan key file (\(size) bytes)",
        fix: "create a key pair with the audit keygen command")
    }
    guard let bytes = try FS.read(path) else {
      throw SendplanError(
        .badData, code: "key_missing", path: path,
        message: "the \(`private` ? "signing" : "public") key file does not exist", fix: missingFix)
    }
    if `private`, let mode = FS.mode(path), mode & 0o077 != 0 {
      throw SendplanError(
        .badData, code: "key_permissions", path: path,
        message: "the signing key is readable by other users (mode \(String(mode & 0o777, radix: 8)))",
        fix: "chmod 600 \(path)")
    }
    return try body(bytes, tag: tag, path: path)
  }
}
