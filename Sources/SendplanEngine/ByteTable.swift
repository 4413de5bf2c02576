import SendplanModel

/// An open-addressing hash table keyed by byte strings, for the planner's per-recipient lookups
/// (suppressed addresses and domains, duplicate addresses within an enrollment).
///
/// A `[String: V]` hashes with SipHash through `String`'s Unicode-aware paths and allocates a
/// `String` per probe; here a probe hashes the bytes already in hand and compares them with the
/// key bytes kept in one arena. Keys compare byte-wise, which is what the planner wants: the only
/// keys are ASCII addresses and domains. Only lookups are offered, so no iteration order leaks out.
struct ByteTable<Value> {
  /// Every key's bytes, back to back; entry `k` spans `starts[k]..<starts[k + 1]`.
  private var arena: [UInt8] = []
  private var starts: [Int] = [0]
  private var hashes: [UInt64] = []
  private var values: [Value] = []
  /// Entry index + 1 per slot, 0 when empty; the count is a power of two.
  private var slots: [Int32] = []

  var count: Int { values.count }
  var isEmpty: Bool { values.isEmpty }

  init() {}

  /// Empties the table, keeping its storage, sized for about `expected` keys.
  mutating func reset(expected: Int) {
    arena.removeAll(keepingCapacity: true)
    starts.removeAll(keepingCapacity: true)
    starts.append(0)
    hashes.removeAll(keepingCapacity: true)
    values.removeAll(keepingCapacity: true)
    var n = 8
    while n < expected * 2 { n <<= 1 }
    if slots.count == n {
      slots.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    } else {
      slots = [Int32](repeating: 0, count: n)
    }
  }

  /// FNV-1a over the bytes, then a final mix so the low bits (the slot) depend on every byte.
  @inline(__always)
  static func hash(_ key: UnsafeBufferPointer<UInt8>) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in key { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
    h ^= h >> 32
    h = h &* 0xD6E8_FEB8_6659_FD93
    return h ^ (h >> 29)
  }

  /// The slot holding `key`, or the empty slot where it would go.
  @inline(__always)
  private func find(_ key: UnsafeBufferPointer<UInt8>, hash h: UInt64) -> (slot: Int, entry: Int?) {
    let mask = slots.count - 1
    var i = Int(truncatingIfNeeded: h) & mask
    return arena.withUnsafeBufferPointer { a in
      while true {
        let e = Int(slots[i]) - 1
        if e < 0 { return (i, nil) }
        if hashes[e] == h {
          let s = starts[e]
          let n = starts[e + 1] - s
          if n == key.count && Self.equal(a, from: s, key) { return (i, e) }
        }
        i = (i + 1) & mask
      }
    }
  }

  /// Whether `a[s..<s + b.count]` equals `b`; the caller has checked that `a` holds that range.
  @inline(__always)
  private static func equal(_ a: UnsafeBufferPointer<UInt8>, from s: Int, _ key: UnsafeBufferPointer<UInt8>) -> Bool {
    let n = key.count
    guard n > 0, let ab = a.baseAddress, let b = key.baseAddress else { return n == 0 }
    return ByteOrder.equal(ab + s, b, count: n)
  }

  /// The value stored under `key`, or nil.
  @inline(__always)
  func value(_ key: UnsafeBufferPointer<UInt8>) -> Value? {
    if values.isEmpty { return nil }
    guard let e = find(key, hash: Self.hash(key)).entry else { return nil }
    return values[e]
  }

  /// The index of the entry for `key`, inserting `make()` first when there is none.
  @discardableResult
  mutating func insert(_ key: UnsafeBufferPointer<UInt8>, _ make: () -> Value) -> (index: Int, inserted: Bool) {
    if slots.isEmpty || (values.count + 1) * 2 > slots.count { grow() }
    let h = Self.hash(key)
    let (slot, entry) = find(key, hash: h)
    if let entry { return (entry, false) }
    let e = values.count
    arena.append(contentsOf: key)
    starts.append(arena.count)
    hashes.append(h)
    values.append(make())
    slots[slot] = Int32(e + 1)
    return (e, true)
  }

  /// The stored value of entry `index`, as ``insert(_:_:)`` returned it.
  subscript(entry index: Int) -> Value {
    get { values[index] }
    set { values[index] = newValue }
  }

  private mutating func grow() {
    var n = max(8, slots.count * 2)
    while n < (values.count + 1) * 2 { n <<= 1 }
    slots = [Int32](repeating: 0, count: n)
    let mask = n - 1
    for e in 0..<values.count {
      var i = Int(truncatingIfNeeded: hashes[e]) & mask
      while slots[i] != 0 { i = (i + 1) & mask }
      slots[i] = Int32(e + 1)
    }
  }
}

extension ByteTable: Sendable where Value: Sendable {}
