import SendplanFileSystem
import SendplanInput
import SendplanModel

/// The tool's name and version as recorded in outputs.
package enum Tool {
  package static let name = "sendplan"
  package static let version = "0.1.0"
}

/// Everything a run needs to know, decided by the caller; the pipeline reads no environment.
package struct RunOptions: Sendable {
  /// The export bundle folder.
  package var input: String
  /// The output folder OUT, replaced atomically when the run completes.
  package var out: String
  package var asOf: Timestamp
  package var runID: String
  /// fsync every file and folder before publishing.
  package var sync: Bool
  /// Plan only this shard's tenants; recorded in run.json.
  package var shard: Shard?
  /// Append each planned tenant's events to its audit stream in this folder.
  package var auditDir: String?
  /// Ed25519 key file that signs each checkpoint; seals are unsigned without it.
  package var signingKeyPath: String?
  /// Write `report.html` and `report.xml` per tenant.
  package var reports: Bool
  /// A folder whose `report.html.mustache` and `report.xsd` replace the built-in ones.
  package var templatesDir: String?
  /// Test hooks that stop or fail the run at a chosen durability step.
  package var faults: FaultPoints?
  /// Bytes of memory the bundle's rows may take at once; a larger bundle is read and planned in
  /// partitions of tenants, one at a time. nil: no limit (one partition).
  package var memoryLimit: Int?
  /// How much of one record the bundle's readers may hold (`--max-record-bytes`).
  package var readLimits = ReadLimits.default

  package init(
    input: String, out: String, asOf: Timestamp, runID: String, sync: Bool = true, shard: Shard? = nil,
    auditDir: String? = nil, signingKeyPath: String? = nil, reports: Bool = true, templatesDir: String? = nil,
    faults: FaultPoints? = nil, memoryLimit: Int? = nil
  ) {
    self.memoryLimit = memoryLimit
    self.input = input
    self.out = out
    self.asOf = asOf
    self.runID = runID
    self.sync = sync
    self.shard = shard
    self.auditDir = auditDir
    self.signingKeyPath = signingKeyPath
    self.reports = reports
    self.templatesDir = templatesDir
    self.faults = faults
  }

  /// The run id used when none is given: `run-` and `asOf` as `YYYYMMDDTHHMMSSZ`.
  package static func defaultRunID(asOf: Timestamp) -> String { "run-" + asOf.compact }
}
