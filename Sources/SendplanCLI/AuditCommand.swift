import ArgumentParser
import Crypto
import SendplanAudit
import SendplanDiagnostics
import SendplanFileSystem
import SendplanModel

#if canImport(Glibc)
  import Glibc
#endif

struct AuditCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "audit",
    abstract: "Read, check and export the tamper-evident audit trail written by `run --audit-dir`.",
    subcommands: [
      KeygenCommand.self, QueryCommand.self, VerifyCommand.self, ExportCommand.self, ProveCommand.self,
      CheckProofCommand.self, CosignCommand.self,
    ]
  )
}

/// Runs `body`, printing an audit error and ending with its exit status.
func auditing<T>(_ body: () throws(SendplanError) -> T) throws -> T {
  do {
    return try body()
  } catch {
    Console.current.err("error: \(error)")
    throw Exit(status: ExitStatus.of(error))
  }
}

struct KeygenCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "keygen",
    abstract:
      "Create an Ed25519 signing key (FILE, mode 600), its public key (FILE.pub) and note verifier key (FILE.vkey).",
    discussion: """
      Keep FILE where only the nightly job's user can read it; sendplan refuses a key that others can read.
      Publish FILE.vkey (the C2SP note verifier key; FILE.pub is the same key in sendplan's own format) to
      the reviewers who run `audit verify --public-key` and `audit check-proof --public-key`.
      With --witness NAME it creates a witness key instead: FILE (private) and FILE.vkey (its
      cosignature verifier key, for --witness-key).
      """
  )

  @Option(name: .long, help: "Where to write the private key; FILE.pub and FILE.vkey get the public key.")
  var out: String
  @Option(name: .long, help: "Create a witness key with this name (a schema-less URL, no spaces or +).")
  var witness: String?

  func run() throws {
    let console = Console.current
    if let witness, !NoteKey.validName(witness) {
      throw ValidationError("--witness \(witness.debugDescription) is not a valid key name (no spaces, no +)")
    }
    let paths = witness == nil ? [out, out + ".pub", out + ".vkey"] : [out, out + ".vkey"]
    for path in paths where access(path, F_OK) == 0 {
      console.err("error: \(path) already exists; refusing to overwrite a key (fix: choose another --out)")
      throw Exit(status: .cannotCreate)
    }
    let key = Curve25519.Signing.PrivateKey()
    if let witness {
      try writeFile(out, AuditKeys.witnessKeyFile(key, name: witness), mode: 0o600)
      let vkey = NoteKey(name: witness, algorithm: NoteKey.cosignature, publicKey: key.publicKey).text
      try writeFile(out + ".vkey", Array((vkey + "\n").utf8), mode: 0o644)
      console.out("wrote \(out) (witness private key, mode 600) and \(out).vkey: \(vkey)")
      return
    }
    try writeFile(out, AuditKeys.privateKeyFile(key), mode: 0o600)
    try writeFile(out + ".pub", AuditKeys.publicKeyFile(key.publicKey), mode: 0o644)
    let vkey = AuditKeys.verifierKey(key.publicKey).text
    try writeFile(out + ".vkey", Array((vkey + "\n").utf8), mode: 0o644)
    console.out(
      "wrote \(out) (private, mode 600), \(out).pub and \(out).vkey; key id \(AuditKeys.keyID(key.publicKey)); "
        + "verifier key \(vkey)")
  }
}

/// Creates a new file durably (the file and its folder are synced): a key or an export must not
/// vanish in a power cut after sendplan said it wrote it.
func writeFile(_ path: String, _ bytes: [UInt8], mode: mode_t) throws {
  do throws(SendplanError) {
    try FS.createNew(path, bytes, mode: mode)
  } catch {
    Console.current.err("error: \(path): \(error.message)")
    throw Exit(status: error.kind == .cannotCreate ? .cannotCreate : .ioError)
  }
}

struct QueryCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "query",
    abstract: "Print one enrollment's audit entries as the Stage 2A audit response, oldest first.",
    discussion: """
      Only the given customer's stream is read, and every entry is checked against its hash.
      An enrollment that is unknown, or belongs to another customer, is "not found" (exit 66).
      """
  )

  @Option(name: .customLong("audit-dir")) var auditDir: String
  @Option(name: .customLong("customer-id")) var customerID: String
  @Option(name: .customLong("enrollment")) var enrollment: String
  @Option(name: .long, help: "Entries per page, 1 to 1000.") var limit: Int = AuditQuery.defaultLimit
  @Option(name: .long, help: "The nextCursor of the previous page.") var cursor: String?

  func run() throws {
    let page = try auditing { () throws(SendplanError) in
      try AuditQuery.page(
        root: auditDir, customerID: ID(customerID), enrollmentID: enrollment, limit: limit, cursor: cursor)
    }
    Console.current.write(String(decoding: page.document.render(), as: UTF8.self), toError: false)
  }
}

struct VerifyCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "verify",
    abstract: "Check every record, chain link, segment, manifest, checkpoint, signature and Merkle root.",
    discussion: """
      Prints one line per problem, then a summary. Exits 0 only when everything is valid, 1 when a
      problem was found, 66 when the audit folder or stream does not exist.
      """
  )

  @Option(name: .customLong("audit-dir")) var auditDir: String
  @Option(name: .customLong("customer-id"), help: "Only this customer's stream.") var customerID: String?
  @Option(
    name: .customLong("trusted-checkpoint"),
    help: "A checkpoint file kept from earlier; the stream must still contain it (no rollback, no rewrite).")
  var trusted: [String] = []
  @Option(name: .customLong("public-key"), help: "Every checkpoint must be signed by this key (a .pub or .vkey file).")
  var publicKey: String?
  @Option(name: .customLong("witness-key"), help: "A witness's verifier key (.vkey or text); repeatable.")
  var witnessKeys: [String] = []
  @Option(
    name: .customLong("min-witnesses"),
    help: "Cosignatures each stream's last checkpoint needs (default: every --witness-key).")
  var minWitnesses: Int?
  @Flag(name: .long, help: "Print the report as JSON.") var json = false

  func run() throws {
    let console = Console.current
    let report = try auditing { () throws(SendplanError) in
      let key = try publicKey.map { p throws(SendplanError) in try AuditKeys.loadNoteKey(p).publicKey }
      var cps: [Checkpoint] = []
      for t in trusted { cps.append(try AuditVerifier.loadCheckpoint(t)) }
      var witnesses: [NoteKey] = []
      for w in witnessKeys { witnesses.append(try AuditKeys.loadNoteKey(w)) }
      return try AuditVerifier.verify(
        root: auditDir, customerID: customerID.map(ID.init), publicKey: key, trusted: cps, witnesses: witnesses,
        minWitnesses: minWitnesses ?? witnesses.count)
    }
    if json {
      console.write(String(decoding: report.json().render(), as: UTF8.self), toError: false)
    } else {
      for p in report.problems {
        console.out("FAIL \(p.path): \(p.message) [\(p.code)] (customer \(p.customerID.debugDescription))")
      }
      for n in report.notes { console.out("note: \(n)") }
      if publicKey == nil {
        console.out(
          "note: signatures were checked against the keys inside the audit folder; pass --public-key to check who signed"
        )
      }
      console.out(report.summary)
    }
    if !report.valid { throw Exit(status: .tenantsFailed) }
  }
}

struct ExportCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "export",
    abstract: "Write one customer's audit stream as a self-contained tar archive a reviewer can verify."
  )

  @Option(name: .customLong("audit-dir")) var auditDir: String
  @Option(name: .customLong("customer-id")) var customerID: String
  @Option(name: .long, help: "The archive to write (it must not exist).") var out: String

  func run() throws {
    let bytes = try auditing { () throws(SendplanError) in
      try AuditExport.archive(root: auditDir, customerID: ID(customerID))
    }
    try writeFile(out, bytes, mode: 0o644)
    Console.current.out("wrote \(out) (\(bytes.count) bytes); verify it with the steps in its README.txt")
  }
}
