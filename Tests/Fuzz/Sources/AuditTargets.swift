import Crypto
import Foundation
import SendplanDiagnostics
import SendplanEngine
import SendplanInput
import SendplanJSON
import SendplanModel

@testable import SendplanAudit

/// The repository this harness was built from (for the sample bundle).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .deletingLastPathComponent().deletingLastPathComponent().path
let sampleBundle = repositoryRoot + "/docs/sample-bundle"

/// An audit folder with two sealed nightly runs of the sample bundle, signed with a fixed key,
/// written through `AuditWriter` the way `sendplan run` writes it.
struct AuditFolderFixture {
  let audit: String
  let key: Curve25519.Signing.PrivateKey
  let tenants: [TenantInput]
  /// Every file of the folder (relative path) and its bytes, byte-wise sorted by path.
  let files: [(path: String, bytes: [UInt8])]

  init(root: String) throws {
    audit = root + "/audit"
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    key = try Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 7, count: 32))
    tenants = try BundleReader.read(path: sampleBundle).tenants
    for day in 1...2 { _ = try Self.run(audit: audit, tenants: tenants, key: key, day: day) }
    files = try Scratch.files(audit).filter { !$0.hasPrefix(".lock") }.map { p in
      (p, try [UInt8](Data(contentsOf: URL(fileURLWithPath: root + "/audit/" + p))))
    }
  }

  static func asOf(day: Int) -> Timestamp {
    Timestamp(seconds: 1_795_744_800 + Int64(day) * 86_400)  // day 1 is 2026-11-27T02:00:00Z
  }

  /// The audit side of one nightly run: lock, prepare (recovery), append every plan, commit.
  static func run(audit: String, tenants: [TenantInput], key: Curve25519.Signing.PrivateKey?, day: Int)
    throws(SendplanError) -> AuditSummary
  {
    let asOf = asOf(day: day)
    let writer = try AuditWriter(root: audit, runID: "run-" + asOf.compact, asOf: asOf, key: key)
    var alreadySealed = 0
    for (tenant, preparation) in zip(tenants, writer.prepare(tenants.map(\.customerID))) {
      switch preparation {
      case .ready:
        guard case .success(let plan) = Planner.plan(tenant, asOf: asOf) else { continue }
        try writer.append(plan)
      case .alreadySealed: alreadySealed += 1
      case .refused: continue
      }
    }
    return try writer.commit(alreadySealed: alreadySealed)
  }

  /// Puts the folder back as it was sealed.
  func restore() {
    Scratch.reset(audit)
    for f in files {
      let path = audit + "/" + f.path
      try? FileManager.default.createDirectory(
        atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
      Scratch.write(path, f.bytes)
    }
  }

  /// Enrollment ids with audit entries, per customer.
  var enrollments: [(ID, ID)] {
    tenants.flatMap { t in t.enrollments.prefix(2).map { (t.customerID, $0.id) } }
  }
}

/// `audit-files`: each parser of an audit folder's files on its own; byte 0 picks the parser.
///
/// 0 record lines, 1 a whole segment, 2 seal manifest, 3 checkpoint, 4 head.json, 5 index,
/// 6 stream.json, 7 key files, 8 Base64. Parsed files must render back to what parses the same.
final class AuditFilesFuzz: FuzzTarget {
  let parsers = 9
  let scratch: String

  init(scratch: String) throws {
    self.scratch = scratch
  }

  func run(_ data: [UInt8]) {
    guard let control = data.first else { return }
    let bytes = Array(data.dropFirst())
    switch Int(control) % parsers {
    case 0:
      var previous = Hash32.zero
      for line in bytes.pieces(0x0A) {
        do throws(RecordDecoder.Problem) {
          let decoded = try RecordDecoder.decode(line, previous: previous)
          previous = decoded.hash
        } catch {
          continue
        }
      }
    case 1:
      let scan = SegmentScan.read(
        bytes, number: 1, customerID: "acme", chain: .zero, frontier: MerkleFrontier())
      _ = scan.problem
    case 2:
      guard let m = SealManifest.parse(bytes) else { return }
      _ = m.records
      FuzzCheck.that(SealManifest.parse(m.render()) == m, "seal manifest does not round-trip")
    case 3:
      guard let c = Checkpoint.parse(bytes) else { return }
      _ = c.signatureValid(trusted: nil)
      FuzzCheck.that(Checkpoint.parse(c.render()) == c, "checkpoint does not round-trip")
    case 4:
      guard let h = StreamHead.parse(bytes) else { return }
      FuzzCheck.that(StreamHead.parse(h.render()) == h, "head does not round-trip")
    case 5:
      guard let entries = SegmentIndex.parse(bytes) else { return }
      _ = SegmentIndex.render(entries)
    case 6:
      _ = StreamIdentity.parse(bytes)
    case 7:
      let path = scratch + "/key"
      Scratch.write(path, bytes)
      _ = try? AuditKeys.loadPublic(path)
      chmod(path, 0o600)
      _ = try? AuditKeys.loadPrivate(path)
    default:
      if let raw = Base64.decode(bytes.text) {
        FuzzCheck.that(Base64.decode(Base64.encode(raw)) == raw, "Base64 round trip")
      }
    }
  }

  func seeds() throws -> [String: [UInt8]] {
    let fixture = try AuditFolderFixture(root: scratch + "/seeds")
    var out: [String: [UInt8]] = [:]
    for f in fixture.files {
      let name = (f.path as NSString).lastPathComponent
      let kinds: [(String, UInt8)] = [
        (".log", 1), (".manifest.json", 2), (".checkpoint", 3), ("head.json", 4), (".idx", 5), ("stream.json", 6),
      ]
      let parser = kinds.first { name.hasSuffix($0.0) }?.1
      guard let parser, out.keys.filter({ $0.hasPrefix("\(parser)-") }).count < 2 else { continue }
      out["\(parser)-\(name)"] = [parser] + f.bytes
      if parser == 1, let line = f.bytes.pieces(0x0A).dropFirst().first {
        out["0-\(name)-line"] = [0] + Array(line)
      }
    }
    out["7-private-key"] = [7] + AuditKeys.privateKeyFile(fixture.key)
    out["7-public-key"] = [7] + AuditKeys.publicKeyFile(fixture.key.publicKey)
    out["8-base64"] = [8] + Array(Base64.encode(Array(0..<40)).utf8)
    return out
  }
}

/// `audit-folder`: query, verify and a run's recovery over a real folder with one file replaced.
///
/// Bytes 0-1 pick the file (big-endian, modulo the number of files); the rest is its new content.
/// The seeds are every file as it was sealed, so mutations start from real contents.
final class AuditFolderFuzz: FuzzTarget {
  let fixture: AuditFolderFixture

  init(scratch: String) throws {
    fixture = try AuditFolderFixture(root: scratch)
  }

  func run(_ data: [UInt8]) {
    guard data.count >= 2 else { return }
    let pick = (Int(data[0]) << 8 | Int(data[1])) % fixture.files.count
    fixture.restore()
    Scratch.write(fixture.audit + "/" + fixture.files[pick].path, data.dropFirst(2))
    for (customer, enrollment) in fixture.enrollments {
      var cursor: String?
      for _ in 0..<2 {
        guard
          let page = try? AuditQuery.page(
            root: fixture.audit, customerID: customer, enrollmentID: enrollment.string, limit: 2, cursor: cursor),
          let next = page.nextCursor
        else { break }
        cursor = next
      }
    }
    _ = try? AuditVerifier.verify(root: fixture.audit, publicKey: fixture.key.publicKey)
    _ = try? AuditFolderFixture.run(audit: fixture.audit, tenants: fixture.tenants, key: fixture.key, day: 3)
  }

  func seeds() throws -> [String: [UInt8]] {
    var out: [String: [UInt8]] = [:]
    for (i, f) in fixture.files.enumerated() {
      out[String(format: "%02d-", i) + f.path.replacingOccurrences(of: "/", with: "_")] =
        [UInt8(i >> 8), UInt8(i & 0xFF)] + f.bytes
    }
    return out
  }
}
