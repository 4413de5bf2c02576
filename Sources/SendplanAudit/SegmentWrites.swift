import Crypto
import Dispatch
import SendplanDiagnostics
import SendplanEngine
import SendplanFileSystem
import SendplanModel
import Synchronization

/// Writes new segments on one background thread, so that the workers go on planning while a
/// segment goes to disk. Direct I/O waits for the device; done by the workers it left a core idle
/// for an eighth of a nightly run.
final class SegmentWrites: @unchecked Sendable {
  private let queue = DispatchQueue(label: "sendplan.audit.segments")
  private let group = DispatchGroup()
  /// Segments built but not yet written, at most; a worker waits for a free slot (bounded memory).
  private let slots = DispatchSemaphore(value: 8)
  private let failure = Mutex<SendplanError?>(nil)

  /// Queues `bytes` to be written to the new file `path`; throws an earlier write's error, if any.
  func submit(_ path: String, _ bytes: ByteWriter, faults: FaultPoints?) throws(SendplanError) {
    if let e = failure.withLock({ $0 }) { throw e }
    // The builder is done with the buffer; from here on it is only read.
    let handoff = Handoff(bytes: bytes)
    slots.wait()
    queue.async(group: group) { [self] in
      let bytes = handoff.bytes
      defer { slots.signal() }
      if failure.withLock({ $0 != nil }) { return }
      do throws(SendplanError) {
        try FS.writeSegment(path, bytes.buffer(from: 0), appending: false, faults: faults)
      } catch {
        failure.withLock { if $0 == nil { $0 = error } }
      }
    }
  }

  private struct Handoff: @unchecked Sendable { let bytes: ByteWriter }

  /// Waits for every queued segment; throws the first write error.
  func drain() throws(SendplanError) {
    group.wait()
    if let e = failure.withLock({ $0 }) { throw e }
  }
}
