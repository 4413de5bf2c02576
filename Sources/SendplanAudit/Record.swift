import CSendplanSys
import SendplanEngine
import SendplanJSON
import SendplanModel

/// The audit event types of the Stage 2A contract.
package enum EventType: String, Sendable, CaseIterable, Comparable {
  case dryRunPlanned = "dry_run_planned"
  case wouldSend = "would_send"
  case skipped
  case failedValidation = "failed_validation"
  case paused

  package static func < (a: EventType, b: EventType) -> Bool { a.rawValue < b.rawValue }

  var position: Int {
    switch self {
    case .dryRunPlanned: return 0
    case .wouldSend: return 1
    case .skipped: return 2
    case .failedValidation: return 3
    case .paused: return 4
    }
  }
}

/// The record format versions. Version 1 segments (written before evidence) have no `v` member in
/// their header and no `evidence` on events; version 2 headers say `"v":2` and events may carry
/// `evidence`. A stream may hold segments of both; each is read by its own header.
package enum RecordFormat {
  /// The version new segments are written in.
  package static let current: Int64 = 2
  /// Versions a reader accepts.
  package static let known: ClosedRange<Int64> = 1...2
}

/// The first record of every segment; binds the segment to its stream, run and place in the chain.
package struct SegmentHeader: Sendable, Equatable {
  package var seq: Int64
  /// The record format version of the segment (``RecordFormat``).
  package var version: Int64 = RecordFormat.current
  package var segment: Int64
  package var customerID: String
  package var runID: String
  /// The run's `asOf`, RFC 3339 UTC.
  package var timestamp: String
  /// The chain head before this segment (all zeros for the first).
  package var prev: Hash32
}

/// One audit event as stored. Customer, run and timestamp come from the segment header.
package struct Event: Sendable, Equatable {
  package var seq: Int64
  package var type: EventType
  package var enrollmentID: String
  package var stepOrder: Int64?
  package var recipientID: String?
  package var recipientCount: Int64?
  package var reason: String?
  /// Enrollment-level error codes, only on an enrollment-level `failed_validation`.
  package var errors: [String]?
  /// The rows behind the event (format version 2): a JSON object, see docs/audit.md.
  package var evidence: JSONValue?
}

extension Event {
  /// Whether the optional members present are the ones its event type calls for.
  var hasTheFieldsOfItsType: Bool {
    switch type {
    case .dryRunPlanned:
      return stepOrder != nil && recipientCount != nil && recipientID == nil && reason == nil && evidence == nil
    case .wouldSend:
      return stepOrder != nil && recipientID != nil && reason == nil && recipientCount == nil
    case .skipped, .paused, .failedValidation:
      return reason != nil && recipientCount == nil
    }
  }
}

/// A parsed record line.
package enum Record: Sendable, Equatable {
  case header(SegmentHeader)
  case event(Event)

  package var seq: Int64 {
    switch self {
    case .header(let h): return h.seq
    case .event(let e): return e.seq
    }
  }
}

/// Encodes records into lines: `{...fields...,"h":"<tag>"}` and a newline.
///
/// The body of a line is the line without its trailing `,"h":"…"` member, that is the fields
/// followed by `}`. A record's hash is SHA-256(0x00 || body || previous record's hash): the RFC 6962
/// leaf hash of the entry `body || previous hash`, so the chain link is part of every leaf. The line
/// stores the first 8 hex digits of it as a tag, to pinpoint a damaged record; the full hash of the
/// last record is sealed in the manifest and the checkpoint.
