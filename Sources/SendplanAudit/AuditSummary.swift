import Crypto
import Dispatch
import SendplanDiagnostics
import SendplanEngine
import SendplanFileSystem
import SendplanModel
import Synchronization

/// What `prepare` found for one tenant's stream.
package enum StreamPreparation: Sendable {
  /// Ready to take this run's events.
  case ready
  /// This run is already sealed in the stream (segment n): nothing to do.
  case alreadySealed(segment: Int64)
  /// The stream cannot be appended to safely; the tenant must not be planned into it.
  case refused(SendplanError)
}

/// What happened to one tenant's stream in a run.
package struct StreamOutcome: Sendable {
  package var customerID: ID
  package var segment: Int64
  package var eventsAppended: Int
  package var counts: [EventType: Int]
  /// Bytes of all segments after the run.
  package var streamBytes: Int64
  /// The stream after this run: records, last record hash and Merkle root (hex).
  package var treeSize: Int64
  package var chainHead: String
  package var merkleRoot: String
}

/// The audit side of a run.
package struct AuditSummary: Sendable {
  package var streams: [StreamOutcome] = []
  package var alreadySealed: Int = 0
  package var signed: Bool
  /// Recovery actions taken (torn tails quarantined, interrupted runs sealed), one line each.
  package var notices: [String] = []

  package var eventsAppended: Int { streams.reduce(0) { $0 + $1.eventsAppended } }
}
