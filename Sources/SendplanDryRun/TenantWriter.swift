import SendplanDiagnostics
import SendplanEngine
import SendplanFileSystem
import SendplanJSON
import SendplanModel

/// Serialises a tenant's plan into the files of its output folder.
package enum TenantWriter {
  /// Static JSON pieces for each status, so an item is assembled from pre-escaped bytes.
  struct StatusPieces {
    var reason: [UInt8]
    var status: [UInt8]
    var suppression: [UInt8]

    init(_ s: ItemStatus) {
      var b = JSONBytes()
      if let r = s.reason {
        b.raw(",\"reason\":")
        b.string(r)
      }
      reason = b.bytes
      b = JSONBytes()
      b.raw(",\"status\":")
      b.string(s.name)
      b.raw(",\"stepOrder\":")
      status = b.bytes
      b = JSONBytes()
      if let sr = s.suppressionResult {
        b.raw(",\"suppressionResult\":")
        b.string(sr)
      }
      suppression = b.bytes
    }
  }

  static let pieces: [ItemStatus: StatusPieces] = {
    var all: [ItemStatus] = [.wouldSend]
    all += SkipReason.allCases.map { .skipped($0) }
    all += ValidationReason.allCases.map { .failedValidation($0) }
    all += PauseReason.allCases.map { .paused($0) }
    var m: [ItemStatus: StatusPieces] = [:]
    for s in all { m[s] = StatusPieces(s) }
    return m
  }()

  /// Appends one dry-run line (§4) for `e`: keys sorted, items in plan order, newline-terminated.
  ///
  /// Item keys in byte order are email, identityId, reason, recipientId, status, stepOrder,
  /// suppressionResult, templateId. The per-recipient and per-step parts are escaped once and
  /// copied for every item, which keeps the hot loop to memory copies.
  package static func appendDryRun(_ e: EnrollmentPlan, plannedAt: String, to out: inout JSONBytes) {
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
    if !e.items.isEmpty {
      // Recipient pieces: [head_i][rid_i] back to back; step pieces: [order_s][template_s].
      var frag = JSONBytes(capacity: e.recipients.count * 96 + e.steps.count * 48)
      var headEnd: [Int] = []
      var ridEnd: [Int] = []
      headEnd.reserveCapacity(e.recipients.count)
      ridEnd.reserveCapacity(e.recipients.count)
      for r in e.recipients {
        frag.raw("{\"email\":")
        frag.string(r.email)
        if let ident = e.identityID {
          frag.raw(",\"identityId\":")
          frag.string(ident.string)
        }
        headEnd.append(frag.bytes.count)
        frag.raw(",\"recipientId\":")
        frag.string(r.id.string)
        ridEnd.append(frag.bytes.count)
      }
      var orderEnd: [Int] = []
      var tplEnd: [Int] = []
      for st in e.steps {
        frag.int(st.order)
        orderEnd.append(frag.bytes.count)
        if let t = st.templateID {
          frag.raw(",\"templateId\":")
          frag.string(t.string)
        }
        frag.raw("}")
        tplEnd.append(frag.bytes.count)
      }
      let recipientBase = 0
      let stepBase = ridEnd.last ?? 0
      var lastStatus: ItemStatus? = nil
      var sp = pieces[.wouldSend] ?? StatusPieces(.wouldSend)
      frag.bytes.withUnsafeBufferPointer { f in
        var first = true
        for item in e.items {
          if item.status != lastStatus {
            sp = pieces[item.status] ?? StatusPieces(item.status)
            lastStatus = item.status
          }
          if !first { out.bytes.append(0x2C) }
          first = false
          let r = Int(item.recipient)
          let s = Int(item.step)
          let hs = r == 0 ? recipientBase : ridEnd[r - 1]
          out.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: f[hs..<headEnd[r]]))
          out.bytes.append(contentsOf: sp.reason)
          out.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: f[headEnd[r]..<ridEnd[r]]))
          out.bytes.append(contentsOf: sp.status)
          let os = s == 0 ? stepBase : tplEnd[s - 1]
          out.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: f[os..<orderEnd[s]]))
          out.bytes.append(contentsOf: sp.suppression)
          out.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: f[orderEnd[s]..<tplEnd[s]]))
        }
      }
    }
    out.raw("],\"plannedAt\":")
    out.string(plannedAt)
    out.raw("}}\n")
  }

  /// Writes the tenant's `dry-runs.jsonl` and `queue.json` into `folder`.
  package static func write(_ plan: TenantPlan, runID: String, to folder: FolderWriter) throws(SendplanError) {
    try writeDryRuns(plan, to: folder)
    try folder.write("queue.json", queueDocument(plan, runID: runID))
  }

  /// Writes `dry-runs.jsonl`, streaming in 1 MiB pieces.
  static func writeDryRuns(_ plan: TenantPlan, to folder: FolderWriter) throws(SendplanError) {
    let file = try folder.open("dry-runs.jsonl")
    var buf = JSONBytes(capacity: 1 << 20 + 65_536)
    let plannedAt = plan.asOf.rfc3339
    for e in plan.enrollments {
      appendDryRun(e, plannedAt: plannedAt, to: &buf)
      try file.flushIfNeeded(&buf.bytes)
    }
    try file.write(buf.bytes)
    try folder.close(file)
  }

  /// Appends the queue summary of one enrollment: counts by state (all six), errors, plannedAt, runId.
  package static func appendQueueSummary(
    _ e: EnrollmentPlan, plannedAt: String, runID: String, to out: inout JSONBytes
  ) {
    let c = PlanCounts.of(e.items)
    out.raw("{\"counts\":{\"DryRunPlanned\":0,\"FailedValidation\":")
    out.int(Int64(c.count(status: "FailedValidation")))
    out.raw(",\"Paused\":")
    out.int(Int64(c.count(status: "Paused")))
    out.raw(",\"Queued\":0,\"Skipped\":")
    out.int(Int64(c.count(status: "Skipped")))
    out.raw(",\"WouldSend\":")
    out.int(Int64(c.count(status: "WouldSend")))
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
    out.raw(",\"plannedAt\":")
    out.string(plannedAt)
    out.raw(",\"runId\":")
    out.string(runID)
    out.raw(",\"status\":")
    out.string(e.status.rawValue)
    out.raw("}")
  }

  /// `queue.json`: the queue summary of every planned enrollment, one enrollment per line.
  static func queueDocument(_ plan: TenantPlan, runID: String) -> [UInt8] {
    let plannedAt = plan.asOf.rfc3339
    var out = JSONBytes(capacity: 256 * plan.enrollments.count + 256)
    out.raw("{\"customerId\":")
    out.string(plan.customerID.string)
    out.raw(",\"enrollments\":[")
    for (k, e) in plan.enrollments.enumerated() {
      out.raw(k == 0 ? "\n" : ",\n")
      appendQueueSummary(e, plannedAt: plannedAt, runID: runID, to: &out)
    }
    out.raw(plan.enrollments.isEmpty ? "]" : "\n]")
    out.raw(",\"plannedAt\":")
    out.string(plannedAt)
    out.raw(",\"runId\":")
    out.string(runID)
    out.raw("}\n")
    return out.bytes
  }
}
