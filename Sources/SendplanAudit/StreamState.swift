import Crypto
import Dispatch
import SendplanDiagnostics
import SendplanEngine
import SendplanFileSystem
import SendplanModel
import Synchronization

/// State of a stream after its last committed seal, plus an unsealed segment if a crash left one.
struct StreamState: Sendable {
  var customerID: ID
  var dir: String
  var exists: Bool
  var sealed: Int64 = 0
  var treeSize: Int64 = 0
  var chainHead = Hash32.zero
  var frontier = MerkleFrontier()
  var runs: [String: Int64] = [:]
  var segmentBytes: Int64 = 0
  /// stream.json must be (re)written before appending.
  var needsIdentity = true
  /// The unsealed segment, already cut back to its last whole record.
  var open: OpenSegment?
}

struct OpenSegment: Sendable {
  var number: Int64
  var runID: String
  var timestamp: String
  var bytes: [UInt8]
  var chain: Hash32
  var frontier: MerkleFrontier
  var counts: [EventType: Int]
  var index: [IndexEntry]
}

/// A seal waiting to be written.
struct PendingSeal: Sendable {
  var dir: String
  var manifest: SealManifest
  var checkpoint: Checkpoint
  var index: [IndexEntry]
}
