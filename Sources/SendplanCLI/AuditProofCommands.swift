import ArgumentParser
import SendplanAudit
import SendplanDiagnostics
import SendplanFileSystem
import SendplanModel

struct ProveCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "prove",
    abstract: "Write a self-contained inclusion or consistency proof (JSON) that check-proof verifies offline.",
    discussion: """
      Inclusion: --customer-id C --entry ID [--checkpoint FILE] proves that the entry (an id from
      audit query) is in the tree of the checkpoint (default: the stream's last). Consistency:
      --customer-id C --from OLD.checkpoint [--to NEW.checkpoint] proves that the newer tree extends the older.
      """
  )

  @Option(name: .customLong("audit-dir")) var auditDir: String
  @Option(name: .customLong("customer-id")) var customerID: String
  @Option(name: .long, help: "Entry id (from audit query) to prove inclusion of.") var entry: String?
  @Option(name: .long, help: "Checkpoint to prove inclusion in (default: the last one).") var checkpoint: String?
  @Option(name: .long, help: "Older checkpoint of a consistency proof.") var from: String?
  @Option(name: .long, help: "Newer checkpoint of a consistency proof (default: the last one).") var to: String?
  @Option(name: .long, help: "Where to write the proof (it must not exist); stdout without it.") var out: String?

  func validate() throws {
    if (entry == nil) == (from == nil) {
      throw ValidationError("give either --entry (inclusion) or --from (consistency)")
    }
    if entry != nil && to != nil { throw ValidationError("--to belongs to a consistency proof (--from)") }
    if from != nil && checkpoint != nil {
      throw ValidationError("--checkpoint belongs to an inclusion proof (--entry)")
    }
  }

  func run() throws {
    let proof = try auditing { () throws(SendplanError) in
      if let entry {
        return try AuditProof.proveInclusion(
          root: auditDir, customerID: ID(customerID), entryID: entry, checkpoint: checkpoint)
      }
      return try AuditProof.proveConsistency(root: auditDir, customerID: ID(customerID), from: from ?? "", to: to)
    }
    let bytes = proof.render()
    if let out {
      try writeFile(out, bytes, mode: 0o644)
      Console.current.out("wrote \(out) (\(bytes.count) bytes); check it with audit check-proof")
    } else {
      Console.current.write(String(decoding: bytes, as: UTF8.self), toError: false)
    }
  }
}

struct CheckProofCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "check-proof",
    abstract: "Check a proof file from audit prove with nothing but the file and the keys.",
    discussion: """
      Prints in one sentence what was proven and exits 0, or prints why the proof fails and exits 1.
      --public-key takes the log's .vkey or .pub file, or the verifier key text itself.
      """
  )

  @Argument(help: "The proof file.") var file: String
  @Option(name: .customLong("public-key"), help: "The log's verifier key (.vkey, .pub or name+hash+key).")
  var publicKey: String
  @Option(name: .customLong("witness-key"), help: "A witness's verifier key (.vkey or text); repeatable.")
  var witnessKeys: [String] = []
  @Option(name: .customLong("min-witnesses"), help: "Cosignatures required (default: every --witness-key).")
  var minWitnesses: Int?

  func run() throws {
    let console = Console.current
    do throws(SendplanError) {
      let key = try AuditKeys.loadNoteKey(publicKey)
      var witnesses: [NoteKey] = []
      for w in witnessKeys { witnesses.append(try AuditKeys.loadNoteKey(w)) }
      guard let bytes = try FS.read(file) else {
        throw SendplanError(
          .missing, code: "proof_missing", path: file, message: "the proof file does not exist", fix: "")
      }
      let r = try AuditProofCheck.check(
        bytes, key: key, witnesses: witnesses, minWitnesses: minWitnesses ?? witnesses.count)
      console.out("OK: " + r.statement)
    } catch {
      console.err("FAIL: \(error.message) [\(error.code)]")
      throw Exit(status: .tenantsFailed)
    }
  }
}

struct CosignCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "cosign",
    abstract: "Act as a witness: cosign a checkpoint consistent with the last one this witness cosigned.",
    discussion: """
      The witness keeps the last checkpoint it cosigned per log in --state-dir and refuses a smaller
      tree, another root at the same size, or a larger tree without a consistency proof (--proof, from
      audit prove --from <last cosigned> --to <this one>). The cosigned checkpoint (a C2SP
      tlog-cosignature line added) replaces --checkpoint, or goes to --out.
      """
  )

  @Option(name: .long, help: "The checkpoint file to cosign.") var checkpoint: String
  @Option(name: .customLong("witness-key"), help: "The witness's private key (audit keygen --witness NAME).")
  var witnessKey: String
  @Option(name: .customLong("public-key"), help: "The log's verifier key (.vkey, .pub or name+hash+key).")
  var publicKey: String
  @Option(name: .customLong("state-dir"), help: "The witness's own state folder.") var stateDir: String
  @Option(name: .long, help: "Consistency proof from the last cosigned checkpoint to this one.") var proof: String?
  @Option(name: .long, help: "Write the cosigned checkpoint here instead of replacing --checkpoint.") var out: String?
  @Option(name: .long, help: "Cosignature time, POSIX seconds (default: now).") var time: Int64?

  func run() throws {
    let signedAt = UInt64(max(0, time ?? now().seconds))
    let result = try auditing { () throws(SendplanError) in
      let logKey = try AuditKeys.loadNoteKey(publicKey)
      let witness = try AuditKeys.loadWitness(witnessKey)
      guard let bytes = try FS.read(checkpoint) else {
        throw SendplanError(
          .missing, code: "checkpoint_missing", path: checkpoint, message: "the checkpoint file does not exist",
          fix: "copy the .checkpoint from the stream folder")
      }
      let proofBytes = try proof.map { p throws(SendplanError) in
        guard let b = try FS.read(p) else {
          throw SendplanError(
            .missing, code: "proof_missing", path: p, message: "the proof file does not exist", fix: "")
        }
        return b
      }
      let cosigned = try AuditWitness.cosign(
        checkpoint: bytes, logKey: logKey, witnessName: witness.name, witnessKey: witness.key, stateDir: stateDir,
        proof: proofBytes, time: signedAt)
      let target = out ?? checkpoint
      try FS.writeFile(target + ".tmp", cosigned, faults: nil)
      try FS.rename(target + ".tmp", target, faults: nil)
      return target
    }
    Console.current.out("cosigned as witness; wrote \(result)")
  }
}
