import SendplanDiagnostics
import SendplanFileSystem

/// The witness keys `audit verify` checks cosignatures with, and how many must have cosigned.
struct WitnessBox: Sendable {
  let keys: [NoteKey]
  let min: Int
}

extension AuditVerifier {
  /// Every cosignature by a given witness must verify, and the stream's last committed checkpoint
  /// must carry at least `min` of them (witnesses check consistency, so the last one covers the
  /// earlier states).
  static func verifyWitnesses(_ dir: String, _ w: WitnessBox, report: inout VerifyReport) throws(SendplanError) {
    guard !w.keys.isEmpty || w.min > 0 else { return }
    guard let idBytes = try FS.read(AuditLayout.identity(dir)), let owner = StreamIdentity.parse(idBytes) else {
      return
    }
    let files = try StreamFiles.scan(dir)
    let committed = try files.committed(dir).segment
    guard committed > 0 else { return }
    func problem(_ path: String, _ code: String, _ message: String) {
      report.problems.append(VerifyProblem(customerID: owner, path: path, code: code, message: message))
    }
    var last = 0
    for n in stride(from: 1, through: committed, by: 1) {
      let path = AuditLayout.checkpoint(dir, n)
      guard let bytes = try FS.read(path), let cp = Checkpoint.parse(bytes) else { continue }
      var count = 0
      if !cp.legacy {
        for k in w.keys {
          guard let c = cp.note.cosignature(by: k) else { continue }
          if c.valid {
            count += 1
          } else {
            problem(path, "bad_cosignature", "the cosignature of witness \(k.name) does not verify")
          }
        }
      }
      if n == committed { last = count }
    }
    if last < w.min {
      problem(
        AuditLayout.checkpoint(dir, committed), "not_enough_witnesses",
        "the last checkpoint carries \(last) valid cosignature\(last == 1 ? "" : "s") of the given witnesses; "
          + "\(w.min) required")
    }
  }
}
