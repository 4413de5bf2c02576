import SendplanDiagnostics
import SendplanEngine
import SendplanFileSystem
import SendplanJSON
import SendplanModel

/// Serialises a tenant's plan into the files of its output folder.
package enum TenantWriter {
  /// Static JSON pieces for each status, so an item is assembled from pre-escaped bytes: for
  /// status `k`, `reason`, `status` and `suppression` pieces lie back to back in `bytes` from
  /// `starts[3k]`, `starts[3k + 1]` and `starts[3k + 2]`, each ending where the next begins.
  struct StatusPieces: Sendable {
    let statuses: [ItemStatus]
    let bytes: [UInt8]
    let starts: [Int]
    /// The longest reason + status + suppression of any status.
    let longest: Int

    init() {
      var all: [ItemStatus] = [.wouldSend]
      all += SkipReason.allCases.map { .skipped($0) }
      all += ValidationReason.allCases.map { .failedValidation($0) }
      all += PauseReason.allCases.map { .paused($0) }
      var b = JSONBytes()
      var starts: [Int] = []
      var longest = 0
      for s in all {
        let first = b.bytes.count
        starts.append(b.bytes.count)
        if let r = s.reason {
          b.raw(",\"reason\":")
          b.string(r)
        }
        starts.append(b.bytes.count)
        b.raw(",\"status\":")
        b.string(s.name)
        b.raw(",\"stepOrder\":")
        starts.append(b.bytes.count)
        if let sr = s.suppressionResult {
          b.raw(",\"suppressionResult\":")
          b.string(sr)
        }
        longest = max(longest, b.bytes.count - first)
      }
      starts.append(b.bytes.count)
      statuses = all
      bytes = b.bytes
      self.starts = starts
      self.longest = longest
    }

    /// The position of `s` in `statuses`.
    @inline(__always)
    func slot(_ s: ItemStatus) -> Int { statuses.firstIndex(of: s) ?? 0 }
  }

  static let pieces = StatusPieces()

  /// Per-tenant working storage of the dry-run writer, reused from one enrollment to the next.
  struct Scratch: ~Copyable {
    /// Recipient pieces `[head_r][rid_r]` back to back, then step pieces `[order_s][template_s]`.
    var frag = LineBuffer(capacity: 4096)
    /// End of each recipient's head piece (email, identity) and of its recipient-id piece.
    var headEnd: [Int] = []
    var ridEnd: [Int] = []
    /// End of each step's order piece and of its template piece (which closes the item).
    var orderEnd: [Int] = []
    var tplEnd: [Int] = []
  }

  /// Appends one dry-run line (§4) for `e`: keys sorted, items in plan order, newline-terminated.
  package static func appendDryRun(_ e: EnrollmentPlan, plannedAt: String, to out: inout JSONBytes) {
    var line = LineBuffer(capacity: 1024)
    var scratch = Scratch()
    var tail = JSONBytes()
    tail.raw("],\"plannedAt\":")
    tail.string(plannedAt)
    tail.raw("}}\n")
    appendDryRun(e, tail: tail.bytes, scratch: &scratch, to: &line)
    out.bytes.append(contentsOf: line.bytes)
  }

  /// Appends one dry-run line; `tail` is the pre-rendered `],"plannedAt":…}}` and newline.
  ///
  /// Item keys in byte order are email, identityId, reason, recipientId, status, stepOrder,
  /// suppressionResult, templateId. The per-recipient and per-step parts are escaped once and
  /// copied for every item, which keeps the hot loop to memory copies.
  static func appendDryRun(
    _ e: EnrollmentPlan, tail: [UInt8], scratch: inout Scratch, to out: inout LineBuffer
  ) {
    out.raw("{\"data\":{\"enrollmentId\":")
    out.string(e.enrollmentID.string)
    if !e.errors.isEmpty {
      out.raw(",\"errors\":[")
      for (k, err) in e.errors.enumerated() {
        if k > 0 { out.raw(",") }
        out.string(err.rawValue)
      }
      out.raw("]")
    }
    out.raw(",\"items\":[")
    if !e.items.isEmpty { appendItems(e, scratch: &scratch, to: &out) }
    out.append(tail)
  }

  /// The items of `e`, comma-separated.
  static func appendItems(_ e: EnrollmentPlan, scratch: inout Scratch, to out: inout LineBuffer) {
    scratch.frag.count = 0
    scratch.headEnd.removeAll(keepingCapacity: true)
    scratch.ridEnd.removeAll(keepingCapacity: true)
    scratch.orderEnd.removeAll(keepingCapacity: true)
    scratch.tplEnd.removeAll(keepingCapacity: true)
    var identity = JSONBytes()
    if let ident = e.identityID {
      identity.raw(",\"identityId\":")
      identity.string(ident.string)
    }
    var longestRecipient = 0
    for r in e.recipients {
      let start = scratch.frag.count
      scratch.frag.raw("{\"email\":")
      r.email.withBytes { scratch.frag.string($0) }
      scratch.frag.append(identity.bytes)
      scratch.headEnd.append(scratch.frag.count)
      scratch.frag.raw(",\"recipientId\":")
      scratch.frag.string(r.id.string)
      scratch.ridEnd.append(scratch.frag.count)
      longestRecipient = max(longestRecipient, scratch.frag.count - start)
    }
    let stepBase = scratch.frag.count
    var longestStep = 0
    for st in e.steps {
      let start = scratch.frag.count
      scratch.frag.int(st.order)
      scratch.orderEnd.append(scratch.frag.count)
      if let t = st.templateID {
        scratch.frag.raw(",\"templateId\":")
        scratch.frag.string(t.string)
      }
      scratch.frag.raw("}")
      scratch.tplEnd.append(scratch.frag.count)
      longestStep = max(longestStep, scratch.frag.count - start)
    }
    let table = pieces
    out.reserve(e.items.count * (1 + longestRecipient + longestStep + table.longest))
    // From here on nothing grows, so the pointers stay valid.
    let f = UnsafePointer(scratch.frag.base)
    var p = out.base + out.count
    @inline(__always)
    func copy(_ src: UnsafePointer<UInt8>, _ from: Int, _ to: Int) {
      let n = to - from
      p.initialize(from: src + from, count: n)
      p += n
    }
    var lastStatus = ItemStatus.wouldSend
    var k = table.slot(.wouldSend) * 3
    scratch.headEnd.withUnsafeBufferPointer { headEnd in
      scratch.ridEnd.withUnsafeBufferPointer { ridEnd in
        scratch.orderEnd.withUnsafeBufferPointer { orderEnd in
          scratch.tplEnd.withUnsafeBufferPointer { tplEnd in
            table.bytes.withUnsafeBufferPointer { sb in
              table.starts.withUnsafeBufferPointer { ss in
                guard let sp = sb.baseAddress else { return }
                var first = true
                for item in e.items {
                  if item.status != lastStatus {
                    lastStatus = item.status
                    k = table.slot(item.status) * 3
                  }
                  if !first {
                    p.pointee = 0x2C
                    p += 1
                  }
                  first = false
                  let r = Int(item.recipient)
                  let s = Int(item.step)
                  let rs = r == 0 ? 0 : ridEnd[r - 1]
                  if ss[k] == ss[k + 1] {
                    // No reason: the head and recipient-id pieces are adjacent.
                    copy(f, rs, ridEnd[r])
                  } else {
                    copy(f, rs, headEnd[r])
                    copy(sp, ss[k], ss[k + 1])
                    copy(f, headEnd[r], ridEnd[r])
                  }
                  copy(sp, ss[k + 1], ss[k + 2])
                  let os = s == 0 ? stepBase : tplEnd[s - 1]
                  if ss[k + 2] == ss[k + 3] {
                    copy(f, os, tplEnd[s])
                  } else {
                    copy(f, os, orderEnd[s])
                    copy(sp, ss[k + 2], ss[k + 3])
                    copy(f, orderEnd[s], tplEnd[s])
                  }
                }
              }
            }
          }
        }
      }
    }
    out.count = p - out.base
  }

  /// Writes the tenant's `dry-runs.jsonl` and `queue.json` into `folder`.
  package static func write(_ plan: TenantPlan, runID: String, to folder: FolderWriter) throws(SendplanError) {
    try writeDryRuns(plan, to: folder)
    try folder.write("queue.json", queueDocument(plan, runID: runID))
  }

  /// Writes `dry-runs.jsonl`, streaming in 1 MiB pieces.
  static func writeDryRuns(_ plan: TenantPlan, to folder: FolderWriter) throws(SendplanError) {
    let file = try folder.open("dry-runs.jsonl")
    var buf = LineBuffer(capacity: 1 << 20 + 65_536)
    var scratch = Scratch()
    var tail = JSONBytes()
    tail.raw("],\"plannedAt\":")
    tail.string(plan.asOf.rfc3339)
    tail.raw("}}\n")
    for e in plan.enrollments {
      appendDryRun(e, tail: tail.bytes, scratch: &scratch, to: &buf)
      if buf.count >= 1 << 20 {
        try file.write(UnsafeRawBufferPointer(buf.bytes))
        buf.count = 0
      }
    }
    try file.write(UnsafeRawBufferPointer(buf.bytes))
    try folder.close(file)
  }

  /// Appends the queue summary of one enrollment: counts by state (all six), errors, plannedAt, runId.
  package static func appendQueueSummary(
    _ e: EnrollmentPlan, plannedAt: String, runID: String, to out: inout JSONBytes
  ) {
    var line = LineBuffer(capacity: 512)
    appendQueueSummary(e, stamp: queueStamp(plannedAt: plannedAt, runID: runID), to: &line)
    out.bytes.append(contentsOf: line.bytes)
  }

  /// `,"plannedAt":…,"runId":…,"status":`, the same for every enrollment of a run.
  static func queueStamp(plannedAt: String, runID: String) -> [UInt8] {
    var b = JSONBytes()
    b.raw(",\"plannedAt\":")
    b.string(plannedAt)
    b.raw(",\"runId\":")
    b.string(runID)
    b.raw(",\"status\":")
    return b.bytes
  }

  static func appendQueueSummary(_ e: EnrollmentPlan, stamp: [UInt8], to out: inout LineBuffer) {
    var failed = 0
    var paused = 0
    var skipped = 0
    var wouldSend = 0
    for item in e.items {
      switch item.status {
      case .failedValidation: failed += 1
      case .paused: paused += 1
      case .skipped: skipped += 1
      case .wouldSend: wouldSend += 1
      }
    }
    out.raw("{\"counts\":{\"DryRunPlanned\":0,\"FailedValidation\":")
    out.int(Int64(failed))
    out.raw(",\"Paused\":")
    out.int(Int64(paused))
    out.raw(",\"Queued\":0,\"Skipped\":")
    out.int(Int64(skipped))
    out.raw(",\"WouldSend\":")
    out.int(Int64(wouldSend))
    out.raw("},\"enrollmentId\":")
    out.string(e.enrollmentID.string)
    out.raw(",\"errors\":[")
    for (k, err) in e.errors.enumerated() {
      if k > 0 { out.raw(",") }
      out.string(err.rawValue)
    }
    out.raw("]")
    if let ident = e.identityID {
      out.raw(",\"identityId\":")
      out.string(ident.string)
    }
    out.raw(",\"itemCount\":")
    out.int(Int64(e.items.count))
    out.append(stamp)
    out.string(e.status.rawValue)
    out.raw("}")
  }

  /// `queue.json`: the queue summary of every planned enrollment, one enrollment per line.
  static func queueDocument(_ plan: TenantPlan, runID: String) -> [UInt8] {
    let plannedAt = plan.asOf.rfc3339
    let stamp = queueStamp(plannedAt: plannedAt, runID: runID)
    var out = LineBuffer(capacity: 320 * plan.enrollments.count + 256)
    out.raw("{\"customerId\":")
    out.string(plan.customerID.string)
    out.raw(",\"enrollments\":[")
    for (k, e) in plan.enrollments.enumerated() {
      out.raw(k == 0 ? "\n" : ",\n")
      appendQueueSummary(e, stamp: stamp, to: &out)
    }
    out.raw(plan.enrollments.isEmpty ? "]" : "\n]")
    out.raw(",\"plannedAt\":")
    out.string(plannedAt)
    out.raw(",\"runId\":")
    out.string(runID)
    out.raw("}\n")
    return Array(out.bytes)
  }
}
