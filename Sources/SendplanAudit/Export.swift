import SendplanDiagnostics
import SendplanFileSystem
import SendplanJSON
import SendplanModel

/// Writes one tenant's stream as a self-contained, verifiable tar archive.
package enum AuditExport {
  /// The archive holds `README.txt`, `entries.jsonl` (every entry rendered, for reading), the stream's
  /// folder under `streams/` exactly as on disk (records, manifests, checkpoints, indexes, quarantine),
  /// and `public-keys/<key id>.pub` for every key that signed a checkpoint. Entries carry mtime 0, so
  /// the same stream always exports to the same bytes.
  package static func archive(root: String, customerID: ID) throws(SendplanError) -> [UInt8] {
    let layout = AuditLayout(root: root)
    let folder = FolderName.of(customerID)
    let dir = layout.streams + "/" + folder
    guard let idBytes = try FS.read(AuditLayout.identity(dir)), StreamIdentity.parse(idBytes) == customerID.string
    else {
      throw SendplanError(
        .missing, code: "stream_not_found", path: layout.streams,
        message: "no audit stream for customer \(customerID.string.debugDescription)",
        fix: "check the customer id and the audit folder")
    }
    var tar = TarWriter()
    var files: [(String, [UInt8])] = []
    var keys: [String: [UInt8]] = [:]
    var entries = JSONBytes()
    var sealed: [Int64] = []
    for name in try FS.list(dir) where !name.hasSuffix(".tmp") {
      let path = dir + "/" + name
      if name == "quarantine" {
        for q in try FS.list(path) {
          files.append(("streams/\(folder)/quarantine/\(q)", try FS.read(path + "/" + q) ?? []))
        }
        continue
      }
      let bytes = try FS.read(path) ?? []
      files.append(("streams/\(folder)/\(name)", bytes))
      // Only a checkpoint that names its own file's segment says which segments are sealed.
      if name.hasSuffix(".checkpoint"), let cp = Checkpoint.parse(bytes),
        name == AuditLayout.number(cp.segment) + ".checkpoint"
      {
        if let s = cp.signature { keys[s.keyID] = s.publicKey }
        sealed.append(cp.segment)
      }
    }
    for n in sealed.sorted() {
      let bytes = try FS.read(AuditLayout.segment(dir, n)) ?? []
      var header: SegmentHeader?
      for line in bytes.split(separator: 0x0A) {
        guard let d = try? RecordDecoder.decode(line, previous: .zero) else { continue }
        switch d.record {
        case .header(let h): header = h
        case .event(let e):
          if let header { entries.bytes += AuditQuery.entry(e, header: header).render(pretty: false) }
          entries.raw("\n")
        }
      }
    }
    let readme = """
      sendplan audit export
      =====================

      Customer: \(customerID.string.debugDescription)
      Stream folder: streams/\(folder)

      What is here
      - streams/\(folder)/NNNNNNNN.log: the records of one run, one JSON object a line, hash-chained.
      - NNNNNNNN.manifest.json: the seal of that run (record range, counts, chain head, Merkle root).
      - NNNNNNNN.checkpoint: the signed tree head (Ed25519) for the stream up to that run.
      - public-keys/: the public key of every key that signed a checkpoint here. Compare its key id with
        the one your organisation published; a key found only in this archive proves integrity, not origin.
      - entries.jsonl: every entry as `sendplan audit query` shows it, for reading. It is derived from the
        records and is not itself signed.

      How to verify
        mkdir export && tar -xf THIS_FILE -C export
        sendplan audit verify --audit-dir export --public-key YOUR_TRUSTED_KEY.pub
      Add --trusted-checkpoint FILE with a checkpoint you kept earlier to prove nothing was rolled back.
      The record format and hashing are described in docs/audit.md of sendplan, precisely enough to write
      an independent verifier.

      """
    tar.add("README.txt", Array(readme.utf8))
    tar.add("entries.jsonl", entries.bytes)
    for (id, key) in keys.sorted(by: { $0.key < $1.key }) {
      tar.add("public-keys/\(id).pub", Array("sendplan-audit-ed25519-public-key/1\n\(Base64.encode(key))\n".utf8))
    }
    for (name, bytes) in files.sorted(by: { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }) { tar.add(name, bytes) }
    return tar.finish()
  }
}

/// A minimal POSIX ustar writer: regular files only, names under 100 bytes.
struct TarWriter {
  var out: [UInt8] = []

  mutating func add(_ name: String, _ data: [UInt8]) {
    var h = [UInt8](repeating: 0, count: 512)
    func put(_ s: String, at: Int, width: Int) {
      for (i, b) in s.utf8.prefix(width).enumerated() { h[at + i] = b }
    }
    func octal(_ v: Int, at: Int, width: Int) {
      let s = String(v, radix: 8)
      put(String(repeating: "0", count: max(0, width - 1 - s.count)) + s, at: at, width: width - 1)
    }
    put(name, at: 0, width: 100)
    octal(0o644, at: 100, width: 8)
    octal(0, at: 108, width: 8)
    octal(0, at: 116, width: 8)
    octal(data.count, at: 124, width: 12)
    octal(0, at: 136, width: 12)
    for i in 148..<156 { h[i] = 0x20 }
    h[156] = 0x30
    put("ustar", at: 257, width: 6)
    put("00", at: 263, width: 2)
    let sum = h.reduce(0) { $0 + Int($1) }
    octal(sum, at: 148, width: 7)
    h[155] = 0x20
    out += h
    out += data
    out += [UInt8](repeating: 0, count: (512 - data.count % 512) % 512)
  }

  mutating func finish() -> [UInt8] {
    out += [UInt8](repeating: 0, count: 1024)
    return out
  }
}
