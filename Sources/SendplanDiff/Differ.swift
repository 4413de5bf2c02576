import SendplanDiagnostics
import SendplanModel

/// Compares the planned sends of two runs with a streaming merge walk.
///
/// Both inputs are in canonical order (enrollments by id, items by step order then recipient
/// id, all byte-wise), so one pass over each suffices and memory grows only with the number
/// of differences, never with the number of items.
package enum Differ {
  package static func diff(old: String, new: String, filter: DiffFilter = DiffFilter()) throws(SendplanError)
    -> DiffResult
  {
    let a = try Side.load(old)
    let b = try Side.load(new)
    var result = DiffResult(old: a.info, new: b.info)
    var flagged: [ItemChange] = []
    var others: [ItemChange] = []
    var i = 0
    var j = 0
    while i < a.tenants.count || j < b.tenants.count {
      let ta = i < a.tenants.count ? a.tenants[i] : nil
      let tb = j < b.tenants.count ? b.tenants[j] : nil
      let cmp: Int
      if let ta, let tb {
        cmp =
          ByteOrder.equal(ta.customerId, tb.customerId) ? 0 : (ByteOrder.less(ta.customerId, tb.customerId) ? -1 : 1)
      } else {
        cmp = ta == nil ? 1 : -1
      }
      let left = cmp <= 0 ? ta : nil
      let right = cmp >= 0 ? tb : nil
      if cmp <= 0 { i += 1 }
      if cmp >= 0 { j += 1 }
      let cid = left?.customerId ?? right?.customerId ?? ""
      if left?.status != right?.status, filter.matches(tenant: cid) {
        result.tenants.append(TenantChange(customerId: cid, before: left?.status, after: right?.status))
      }
      // Items are compared when the tenant is planned on both sides, or planned on one and absent on the other.
      let comparable =
        (left?.dryRuns != nil || left == nil) && (right?.dryRuns != nil || right == nil)
      guard comparable, filter.matches(tenant: cid) else { continue }
      var walk = TenantWalk(customerId: cid, old: left, new: right, filter: filter)
      try walk.run()
      result.enrollments += walk.enrollmentChanges
      for c in walk.itemChanges {
        if c.flags.isEmpty { others.append(c) } else { flagged.append(c) }
      }
      for (k, v) in walk.statusDelta { result.summary.statusDelta[k, default: 0] += v }
    }
    result.items = sortedForReport(flagged) + others
    result.summary.tenantChanges = result.tenants.count
    result.summary.enrollmentChanges = result.enrollments.count
    for c in result.items {
      switch c.action {
      case .add: result.summary.add += 1
      case .change: if !c.fields.isEmpty { result.summary.change += 1 }
      case .remove: result.summary.remove += 1
      }
      if !c.flags.isEmpty { result.summary.flagged += 1 }
      if c.flags.contains(.suppressedWouldSend) { result.summary.suppressedWouldSend += 1 }
    }
    result.summary.statusDelta = result.summary.statusDelta.filter { $0.value != 0 }
    return result
  }
}

/// Flagged changes: suppressed WouldSend first, then into-WouldSend, each in key order.
func sortedForReport(_ changes: [ItemChange]) -> [ItemChange] {
  let rank = { (c: ItemChange) in c.flags.contains(.suppressedWouldSend) ? 0 : 1 }
  return changes.enumerated().sorted { a, b in
    rank(a.element) != rank(b.element) ? rank(a.element) < rank(b.element) : a.offset < b.offset
  }.map(\.element)
}

/// Walks one tenant's two dry-runs files in step.
struct TenantWalk {
  let customerId: String
  let old: Side.Tenant?
  let new: Side.Tenant?
  let filter: DiffFilter
  var enrollmentChanges: [EnrollmentChange] = []
  var itemChanges: [ItemChange] = []
  var statusDelta: [String: Int] = [:]
  /// Hashes of normalised addresses that are suppressed, and that are WouldSend, in either run.
  private var suppressed = Set<UInt64>()
  private var wouldSend: [UInt64: [Int]] = [:]
  /// Address hashes of unchanged WouldSend items; a hit with `suppressed` triggers a second pass.
  private var unchangedWouldSend = Set<UInt64>()
  /// Set on the second pass: the suppressed hashes whose unchanged WouldSend items to report.
  private var collectUnchanged: Set<UInt64>? = nil
  private var reported = Set<UInt64>()

  init(customerId: String, old: Side.Tenant?, new: Side.Tenant?, filter: DiffFilter) {
    self.customerId = customerId
    self.old = old
    self.new = new
    self.filter = filter
  }

  /// A cursor over one file's enrollments with order checks.
  struct Cursor {
    let reader: LineReader?
    var line = RawLine()
    var parser = DryRunLineParser()
    var hasLine = false
    /// The previous enrollment id, to check that ids strictly increase (one small copy per line).
    var lastEnrollment: [UInt8]? = nil

    init(_ t: Side.Tenant?) throws(SendplanError) {
      reader = try t?.dryRuns.map { (p) throws(SendplanError) in try LineReader(path: p, name: t?.displayName ?? p) }
    }

    mutating func advance() throws(SendplanError) {
      guard let reader else {
        hasLine = false
        return
      }
      hasLine = try reader.next(into: &line)
      guard hasLine else { return }
      do throws(DryRunLineParser.Failure) {
        try parser.parse(&line)
      } catch {
        guard case .bad(let why) = error else { return }
        throw SendplanError(
          .badData, code: "diff_bad_line", path: reader.name, line: reader.lineNo,
          message: "not a valid dry-run line: \(why)",
          fix: "re-create the input with a new run; the file may be truncated or edited")
      }
      let id = line.decodedBytes(line.enrollmentId)
      if let last = lastEnrollment, !last.lexicographicallyPrecedes(id) {
        throw SendplanError(
          .badData, code: "diff_out_of_order", path: reader.name, line: reader.lineNo,
          message: "enrollments are not in canonical (byte-wise id) order",
          fix: "diff only files written by a sendplan run, which sorts them")
      }
      for k in line.items.indices.dropFirst() {
        let p = line.items[k - 1]
        let c = line.items[k]
        let ordered =
          p.stepOrder < c.stepOrder
          || (p.stepOrder == c.stepOrder && RawLine.compare(line, p.recipientId, line, c.recipientId) < 0)
        if !ordered {
          throw SendplanError(
            .badData, code: "diff_out_of_order", path: reader.name, line: reader.lineNo,
            message: "items are not ordered by stepOrder then recipientId",
            fix: "diff only files written by a sendplan run, which sorts them")
        }
      }
      lastEnrollment = id
    }
  }

  mutating func run() throws(SendplanError) {
    try walk()
    for h in suppressed.sorted() {
      for idx in wouldSend[h] ?? [] where !itemChanges[idx].flags.contains(.suppressedWouldSend) {
        itemChanges[idx].flags.append(.suppressedWouldSend)
      }
    }
    let bad = suppressed.intersection(unchangedWouldSend)
    if !bad.isEmpty {
      // Rare path: walk the tenant again to name the unchanged WouldSend items at fault.
      var again = TenantWalk(customerId: customerId, old: old, new: new, filter: filter)
      again.collectUnchanged = bad
      try again.walk()
      itemChanges += again.itemChanges.filter { $0.fields.isEmpty && $0.flags == [.suppressedWouldSend] }
    }
    itemChanges = itemChanges.filter { filter.matches($0) }
  }

  private mutating func walk() throws(SendplanError) {
    var a = try Cursor(old)
    var b = try Cursor(new)
    try a.advance()
    try b.advance()
    while a.hasLine || b.hasLine {
      let cmp: Int
      if a.hasLine && b.hasLine {
        cmp = RawLine.compare(a.line, a.line.enrollmentId, b.line, b.line.enrollmentId)
      } else {
        cmp = a.hasLine ? -1 : 1
      }
      compareEnrollment(cmp <= 0 ? a.line : nil, cmp >= 0 ? b.line : nil)
      if cmp <= 0 { try a.advance() }
      if cmp >= 0 { try b.advance() }
    }
  }

  private static func side(_ l: RawLine, _ it: RawItem) -> ItemSide {
    ItemSide(
      status: l.text(it.status) ?? "", reason: l.text(it.reason), templateId: l.text(it.templateId),
      identityId: l.text(it.identityId))
  }

  private static func sameField(_ la: RawLine, _ a: Slice, _ lb: RawLine, _ b: Slice) -> Bool {
    RawLine.compare(la, a, lb, b) == 0
  }

  /// FNV-1a over the address trimmed of ASCII white space with ASCII letters folded,
  /// computed on the raw bytes so that unchanged items allocate nothing.
  private static func emailHash(_ l: RawLine, _ it: RawItem) -> UInt64? {
    guard it.email.isPresent else { return nil }
    let bytes: [UInt8]
    var lo = Int(it.email.start)
    var hi = Int(it.email.end)
    if it.email.escaped {
      bytes = l.decodedBytes(it.email)
      lo = 0
      hi = bytes.count
    } else {
      bytes = []
    }
    return (it.email.escaped ? bytes : l.bytes).withUnsafeBufferPointer { p -> UInt64 in
      func space(_ c: UInt8) -> Bool { c == 0x20 || (c >= 0x09 && c <= 0x0D) }
      while lo < hi && space(p[lo]) { lo += 1 }
      while hi > lo && space(p[hi - 1]) { hi -= 1 }
      var h: UInt64 = 0xcbf2_9ce4_8422_2325
      for k in lo..<hi {
        let c = p[k]
        h = (h ^ UInt64(c >= 0x41 && c <= 0x5A ? c | 0x20 : c)) &* 0x0000_0100_0000_01B3
      }
      return h
    }
  }

  private mutating func note(_ l: RawLine, _ it: RawItem, changeIndex: Int?) {
    if TenantWalk.isWord(l, it.reason, "suppressed"), let h = TenantWalk.emailHash(l, it) { suppressed.insert(h) }
    guard TenantWalk.isWord(l, it.status, "WouldSend"), let h = TenantWalk.emailHash(l, it) else { return }
    if let idx = changeIndex {
      wouldSend[h, default: []].append(idx)
    } else if let bad = collectUnchanged {
      if bad.contains(h) && !reported.contains(h) {
        reported.insert(h)
        let side = TenantWalk.side(l, it)
        itemChanges.append(
          ItemChange(
            customerId: customerId, enrollmentId: l.text(l.enrollmentId) ?? "", stepOrder: it.stepOrder,
            recipientId: l.text(it.recipientId) ?? "", action: .change, before: side, after: side, fields: [],
            flags: [.suppressedWouldSend]))
      }
    } else {
      unchangedWouldSend.insert(h)
    }
  }

  private static func isWord(_ l: RawLine, _ s: Slice, _ word: StaticString) -> Bool {
    guard s.isPresent, !s.escaped, Int(s.end - s.start) == word.utf8CodeUnitCount else { return false }
    let w = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
    return l.bytes[Int(s.start)..<Int(s.end)].elementsEqual(w)
  }

  private mutating func compareEnrollment(_ la: RawLine?, _ lb: RawLine?) {
    let enrollmentId = (la ?? lb).flatMap { $0.text($0.enrollmentId) } ?? ""
    let ea = la.map { l in l.errors.map { l.text($0) ?? "" } }
    let eb = lb.map { l in l.errors.map { l.text($0) ?? "" } }
    if ea != eb {
      let change = EnrollmentChange(customerId: customerId, enrollmentId: enrollmentId, before: ea, after: eb)
      if filter.matches(change) { enrollmentChanges.append(change) }
    }
    let itemsA = la?.items ?? []
    let itemsB = lb?.items ?? []
    var x = 0
    var y = 0
    while x < itemsA.count || y < itemsB.count {
      let cmp: Int
      if x < itemsA.count, y < itemsB.count, let la, let lb {
        let ia = itemsA[x]
        let ib = itemsB[y]
        if ia.stepOrder != ib.stepOrder {
          cmp = ia.stepOrder < ib.stepOrder ? -1 : 1
        } else {
          cmp = RawLine.compare(la, ia.recipientId, lb, ib.recipientId)
        }
      } else {
        cmp = x < itemsA.count ? -1 : 1
      }
      if cmp < 0, let la {
        let it = itemsA[x]
        let before = TenantWalk.side(la, it)
        statusDelta[before.status, default: 0] -= 1
        record(.remove, la, it, before: before, after: nil, fields: [])
        note(la, it, changeIndex: itemChanges.count - 1)
        x += 1
      } else if cmp > 0, let lb {
        let it = itemsB[y]
        let after = TenantWalk.side(lb, it)
        statusDelta[after.status, default: 0] += 1
        record(.add, lb, it, before: nil, after: after, fields: [])
        note(lb, it, changeIndex: itemChanges.count - 1)
        y += 1
      } else if let la, let lb {
        let ia = itemsA[x]
        let ib = itemsB[y]
        var fields: [FieldChange] = []
        let pairs: [(String, Slice, Slice)] = [
          ("status", ia.status, ib.status), ("reason", ia.reason, ib.reason),
          ("templateId", ia.templateId, ib.templateId), ("identityId", ia.identityId, ib.identityId),
        ]
        for (name, sa, sb) in pairs where !TenantWalk.sameField(la, sa, lb, sb) {
          fields.append(FieldChange(field: name, before: la.text(sa), after: lb.text(sb)))
        }
        var idxA: Int? = nil
        var idxB: Int? = nil
        if !fields.isEmpty {
          let before = TenantWalk.side(la, ia)
          let after = TenantWalk.side(lb, ib)
          statusDelta[before.status, default: 0] -= 1
          statusDelta[after.status, default: 0] += 1
          record(.change, lb, ib, before: before, after: after, fields: fields)
          idxA = itemChanges.count - 1
          idxB = idxA
        }
        note(la, ia, changeIndex: idxA)
        note(lb, ib, changeIndex: idxB)
        x += 1
        y += 1
      }
    }
  }

  private mutating func record(
    _ action: DiffAction, _ l: RawLine, _ it: RawItem, before: ItemSide?, after: ItemSide?, fields: [FieldChange]
  ) {
    var flags: [DiffFlag] = []
    if after?.status == "WouldSend" && before?.status != "WouldSend" { flags.append(.intoWouldSend) }
    itemChanges.append(
      ItemChange(
        customerId: customerId, enrollmentId: l.text(l.enrollmentId) ?? "", stepOrder: it.stepOrder,
        recipientId: l.text(it.recipientId) ?? "", action: action, before: before, after: after, fields: fields,
        flags: flags))
  }

}
