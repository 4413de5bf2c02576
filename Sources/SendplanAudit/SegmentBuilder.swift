import CSendplanSys
import SendplanEngine
import SendplanEvidence
import SendplanJSON
import SendplanModel

struct IndexEntry: Sendable, Equatable {
  var enrollmentID: String
  var firstSeq: Int64
  var count: Int64
  var offset: Int64
  var length: Int64
  /// The record hash before the first record and after the last, so a query can check the range alone.
  var before: Hash32
  var after: Hash32
}

/// The bytes and facts of one run's segment for one tenant.
struct BuiltSegment {
  /// The segment's bytes, kept in the encoder's buffer rather than copied.
  var writer: ByteWriter
  var count: Int { writer.count }
  var chainHead: Hash32
  var frontier: MerkleFrontier
  var counts: [EventType: Int]
  var index: [IndexEntry]
  var firstSeq: Int64
  var records: Int64
  var enrollments: Int
}

/// Turns a tenant plan into its audit events.
enum SegmentBuilder {
  /// Builds the whole segment deterministically from the stream state before it.
  ///
  /// Per enrollment: for each step, `dry_run_planned` (with the number of items of that step) and then
  /// one event per item, by recipient id. An enrollment with no steps but with errors gets one
  /// enrollment-level `failed_validation` carrying every code.
  static func build(
    plan: TenantPlan, segment: Int64, runID: String, chain: Hash32, frontier: MerkleFrontier
  ) -> BuiltSegment {
    var enc = RecordEncoder(
      chain: chain, frontier: frontier, capacity: 256 + plan.counts.items * 150 + plan.enrollments.count * 200)
    let first = enc.seq
    enc.header(
      segment: segment, customerID: plan.customerID.string, runID: runID, timestamp: plan.asOf.rfc3339)
    var index: [IndexEntry] = []
    index.reserveCapacity(plan.enrollments.count)
    for e in plan.enrollments {
      let startOffset = enc.count
      let startSeq = enc.seq
      let before = enc.chain
      let enr = e.enrollmentID.string
      if e.steps.isEmpty {
        if let firstError = e.errors.first {
          let evidence = e.errorEvidence.first.flatMap { $0 }.map {
            EvidenceJSON.value($0, plan: plan, enrollment: e, addresses: false)
          }
          enc.event(
            .failedValidation, enrollment: enr, reason: firstError.rawValue, errors: e.errors.map(\.rawValue),
            evidence: evidence)
        }
      } else {
        var k = 0
        let member = RecordEncoder.enrollmentMember(enr)
        let evidence = EvidenceBytes(plan: plan, enrollment: e)
        for (si, step) in e.steps.enumerated() {
          var end = k
          while end < e.items.count && Int(e.items[end].step) == si { end += 1 }
          enc.event(.dryRunPlanned, enrollment: enr, step: step.order, count: Int64(end - k))
          while k < end {
            let item = e.items[k]
            enc.item(
              item.status, enrollmentMember: member, step: step.order,
              recipient: e.recipients[Int(item.recipient)].id.string, evidence: evidence.of(item))
            k += 1
          }
        }
      }
      if enc.seq > startSeq {
        index.append(
          IndexEntry(
            enrollmentID: enr, firstSeq: startSeq, count: enc.seq - startSeq, offset: Int64(startOffset),
            length: Int64(enc.count - startOffset), before: before, after: enc.chain))
      }
    }
    return BuiltSegment(
      writer: enc.w, chainHead: enc.chain, frontier: enc.frontier, counts: enc.counts, index: index,
      firstSeq: first, records: enc.seq - first, enrollments: plan.enrollments.count)
  }
}

/// One enrollment's evidence rendered once per enrollment, step and recipient, not once per item.
struct EvidenceBytes {
  let pause: [UInt8]?
  let failure: [UInt8]?
  let steps: [[UInt8]?]
  let recipients: [RecipientEvidence]
  let recipientBytes: [[UInt8]]

  init(plan: TenantPlan, enrollment e: EnrollmentPlan) {
    func render(_ x: Evidence?) -> [UInt8]? {
      x.map { EvidenceJSON.bytes(EvidenceJSON.value($0, plan: plan, enrollment: e, addresses: false)) }
    }
    pause = render(e.pauseEvidence)
    failure = render(e.failureEvidence)
    steps = e.steps.map { render($0.evidence) }
    recipients = e.recipientEvidence
    recipientBytes = e.recipientEvidence.map { render($0.evidence) ?? [] }
  }

  func of(_ item: PlannedItem) -> [UInt8]? {
    switch item.status {
    case .paused: return pause
    case .failedValidation:
      if let failure { return failure }
      let s = Int(item.step)
      return s < steps.count ? steps[s] : nil
    case .skipped, .wouldSend:
      guard !recipients.isEmpty else { return nil }
      var lo = 0
      var hi = recipients.count
      while lo < hi {
        let mid = (lo + hi) / 2
        if recipients[mid].recipient < item.recipient { lo = mid + 1 } else { hi = mid }
      }
      return lo < recipients.count && recipients[lo].recipient == item.recipient ? recipientBytes[lo] : nil
    }
  }
}

/// Reads record lines back, checking their form and hash.
