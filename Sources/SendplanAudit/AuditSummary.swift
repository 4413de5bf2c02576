import Crypto
import Dispatch
import SendplanDiagnostics
import SendplanEngine
import SendplanFileSystem
import SendplanModel
import Synchronization

/// What `prepare` found for one tenant's stream.
public enum StreamPreparation: Sendable {
  /// Ready to take this run's events.
  case ready
  /// This run is already sealed in the stream (segment n): nothing to do.
  case alreadySealed(segment: Int64)
  /// The stream cannot be appended to safely; the tenant must not be planned into it.
  case refused(SendplanError)
}

/// What happened to one tenant's stream in a run.
public struct StreamOutcome: Sendable {
  public var customerID: ID
  public var segment: Int64
  public var eventsAppended: Int
  public var counts: [EventType: Int]
  /// Bytes of all segments after the run.
  public var streamBytes: Int64
  /// The stream after this run: records, last record hash and Merkle root (hex).
  public var treeSize: Int64
  public var chainHead: String
  public var merkleRoot: String
}

/// The audit side of a run.
public struct AuditSummary: Sendable {
  public var streams: [StreamOutcome] = []
  public var alreadySealed: Int = 0
  public var signed: Bool
  /// Recovery actions taken (torn tails quarantined, interrupted runs sealed), one line each.
  public var notices: [String] = []

  public var eventsAppended: Int { streams.reduce(0) { $0 + $1.eventsAppended } }
}
