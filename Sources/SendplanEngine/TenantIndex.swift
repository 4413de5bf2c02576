import SendplanModel

/// Suppressions in force at `asOf` (or, for the expired index, no longer in force), normalised.
package struct SuppressionIndex: Sendable {
  /// Per normalised value: the matching row with the smallest line (index into the tenant's
  /// suppressions) and how many rows hold that value.
  struct Hit: Sendable {
    var rule: Int32
    var line: Int
    var count: Int32
  }
  var emails = ByteTable<Hit>()
  var domains = ByteTable<Hit>()

  var isEmpty: Bool { emails.isEmpty && domains.isEmpty }

  /// The rules of `rows` that are in force at `asOf` (`expired` false) or expired by then (true).
  init(_ rows: [SuppressionRow], asOf: Timestamp, expired: Bool = false) {
    let now = asOf
    for (k, s) in rows.enumerated() {
      let isExpired = s.expiresAt.map { $0 <= now } ?? false
      if isExpired != expired { continue }
      var v = Email.normalize(s.value)
      // Only ASCII values can equal a valid address; this also keeps String's
      // Unicode-aware equality from matching a different byte sequence.
      guard v.utf8.allSatisfy({ $0 < 0x80 }) else { continue }
      let hit = Hit(rule: Int32(k), line: s.line, count: 1)
      func add(_ d: inout ByteTable<Hit>) {
        v.withUTF8 { key in
          let (e, inserted) = d.insert(key) { hit }
          if inserted { return }
          var h = d[entry: e]
          h.count += 1
          if s.line < h.line {
            h.rule = hit.rule
            h.line = hit.line
          }
          d[entry: e] = h
        }
      }
      switch s.type {
      case .email: add(&emails)
      case .domain: add(&domains)
      }
    }
  }

  /// True when a normalised valid address is suppressed by address, domain or parent domain.
  package func suppresses(_ email: String) -> Bool { match(email) != nil }

  /// The rule that suppresses a normalised valid address (of all that match, the first by file and
  /// line) and how many match, or nil.
  package func match(_ email: String) -> SuppressionMatch? {
    var email = email
    return email.withUTF8 { match(bytes: $0) }
  }

  /// ``match(_:)`` on the address's UTF-8 bytes, which the planner has at hand.
  func match(bytes email: UnsafeBufferPointer<UInt8>) -> SuppressionMatch? {
    var best: (hit: Hit, kind: SuppressionMatchKind)?
    var count: Int32 = 0
    @inline(__always)
    func consider(_ h: Hit, _ kind: SuppressionMatchKind) {
      count += h.count
      if best.map({ h.line < $0.hit.line }) ?? true { best = (h, kind) }
    }
    if let h = emails.value(email) { consider(h, .email) }
    if !domains.isEmpty {
      // The part after the first `@` (empty without one), then each parent domain.
      var start = email.count
      for i in 0..<email.count where email[i] == 0x40 {
        start = i + 1
        break
      }
      var kind = SuppressionMatchKind.domain
      while true {
        if let h = domains.value(UnsafeBufferPointer(rebasing: email[start...])) { consider(h, kind) }
        var dot = -1
        for i in start..<email.count where email[i] == 0x2E {
          dot = i
          break
        }
        guard dot >= 0 else { break }
        start = dot + 1
        kind = .parentDomain
      }
    }
    guard let best else { return nil }
    return SuppressionMatch(rule: best.hit.rule, kind: best.kind, count: count)
  }
}

/// One tenant's rows, keyed for planning, with duplicate keys and orphans found.
struct TenantIndex {
  var identities: [ID: IdentityRow] = [:]
  var templates: [ID: TemplateRow] = [:]
  var sequences: [ID: SequenceRow] = [:]
  var batches: [ID: BatchRow] = [:]
  var enrollments: [EnrollmentRow] = []
  var stepsBySequence: [ID: [StepRow]] = [:]
  var recipientsByEnrollment: [ID: [RecipientRow]] = [:]
  var suppressions: SuppressionIndex
  /// Rules expired at `asOf`, for the evidence of WouldSend items; nil when there are none.
  var expired: SuppressionIndex?
  var orphans = Orphans()
  var issues: [RowIssue] = []

  init(_ t: TenantInput, asOf: Timestamp) {
    suppressions = SuppressionIndex(t.suppressions, asOf: asOf)
    let expired = SuppressionIndex(t.suppressions, asOf: asOf, expired: true)
    self.expired = expired.isEmpty ? nil : expired
    func duplicate(_ table: Table, _ line: Int, _ key: String, first: Int) -> RowIssue {
      let here = t.location(table, line)
      let there = t.location(table, first)
      let seen = there.file == here.file ? "line \(there.line)" : "\(there.file) line \(there.line)"
      return RowIssue(
        file: here.file, line: here.line, code: "duplicate_key",
        message: "duplicate key \(key) (first seen on \(seen))",
        fix: "remove the duplicate row or give it its own id")
    }
    // Rows are visited in line order so the later row of a pair is always the one reported.
    var firstLine: [ID: Int] = [:]
    for r in t.identities.sorted(by: { $0.line < $1.line }) {
      if let f = firstLine[r.id] {
        issues.append(duplicate(.identities, r.line, "identity_id \(r.id.string.debugDescription)", first: f))
      } else {
        firstLine[r.id] = r.line
        identities[r.id] = r
      }
    }
    firstLine = [:]
    for r in t.templates.sorted(by: { $0.line < $1.line }) {
      if let f = firstLine[r.id] {
        issues.append(duplicate(.templates, r.line, "template_id \(r.id.string.debugDescription)", first: f))
      } else {
        firstLine[r.id] = r.line
        templates[r.id] = r
      }
    }
    for r in t.sequences.sorted(by: { $0.line < $1.line }) {
      if let f = sequences[r.id] {
        issues.append(duplicate(.sequences, r.line, "sequence_id \(r.id.string.debugDescription)", first: f.line))
      } else {
        sequences[r.id] = r
      }
    }
    firstLine = [:]
    for r in t.batches.sorted(by: { $0.line < $1.line }) {
      if let f = firstLine[r.id] {
        issues.append(duplicate(.batches, r.line, "batch_id \(r.id.string.debugDescription)", first: f))
      } else {
        firstLine[r.id] = r.line
        batches[r.id] = r
      }
    }
    var enrollmentLines: [ID: Int] = [:]
    for r in t.enrollments.sorted(by: { $0.line < $1.line }) {
      if let f = enrollmentLines[r.id] {
        issues.append(duplicate(.enrollments, r.line, "enrollment_id \(r.id.string.debugDescription)", first: f))
      } else {
        enrollmentLines[r.id] = r.line
        enrollments.append(r)
      }
    }
    enrollments.sort { $0.id < $1.id }
    for s in t.steps {
      if sequences[s.sequenceID] != nil {
        stepsBySequence[s.sequenceID, default: []].append(s)
      } else {
        orphans.steps.append(s)
      }
    }
    orphans.steps.sort { $0.line < $1.line }
    // Exports usually list an enrollment's recipients together, so group whole runs at once.
    var groups: [ID: [RecipientRow]] = [:]
    groups.reserveCapacity(t.enrollments.count)
    let all = t.recipients
    var runStart = 0
    while runStart < all.count {
      let eid = all[runStart].enrollmentID
      var runEnd = runStart + 1
      while runEnd < all.count && all[runEnd].enrollmentID == eid { runEnd += 1 }
      groups[eid, default: []].append(contentsOf: all[runStart..<runEnd])
      runStart = runEnd
    }
    recipientsByEnrollment.reserveCapacity(groups.count)
    for (eid, var rows) in groups {
      // Strictly ascending ids (the usual export) have no duplicates: keep the rows as they are.
      let ordered = rows.indices.dropFirst().allSatisfy { rows[$0 - 1].id < rows[$0].id }
      if ordered {
        if enrollmentLines[eid] != nil {
          recipientsByEnrollment[eid] = rows
        } else {
          orphans.recipients.append(contentsOf: rows)
        }
        continue
      }
      rows.sort { $0.id == $1.id ? $0.line < $1.line : $0.id < $1.id }
      var k = 1
      var kept = rows.isEmpty ? [] : [rows[0]]
      while k < rows.count {
        if rows[k].id == rows[k - 1].id {
          let first = kept.last?.line ?? rows[k - 1].line
          issues.append(
            duplicate(
              .recipients, rows[k].line,
              "(enrollment_id \(eid.string.debugDescription), recipient_id \(rows[k].id.string.debugDescription))",
              first: first))
        } else {
          kept.append(rows[k])
        }
        k += 1
      }
      if enrollmentLines[eid] != nil {
        recipientsByEnrollment[eid] = kept
      } else {
        orphans.recipients.append(contentsOf: kept)
      }
    }
    orphans.recipients.sort { $0.line < $1.line }
  }
}
