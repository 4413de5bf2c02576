import SendplanJSON

/// A growable byte buffer written through a pointer, for the dry-run lines.
///
/// `[UInt8]` pays a uniqueness and capacity check and a call per `append(contentsOf:)`; a dry-run
/// line copies seven small pieces per item, ten million items in the bench bundle. Here the writer
/// reserves room for a whole enrollment's items once and copies the pieces with plain pointer moves.
struct LineBuffer: ~Copyable {
  private(set) var base: UnsafeMutablePointer<UInt8>
  private(set) var capacity: Int
  /// Bytes written so far, from `base`.
  var count = 0

  init(capacity: Int) {
    self.capacity = max(capacity, 64)
    base = .allocate(capacity: self.capacity)
  }

  deinit { base.deallocate() }

  /// The written bytes.
  var bytes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base, count: count) }

  /// Makes room for `extra` more bytes after `count`; pointers into the buffer are invalid afterwards.
  @inline(__always)
  mutating func reserve(_ extra: Int) {
    if count + extra > capacity { grow(count + extra) }
  }

  private mutating func grow(_ needed: Int) {
    var c = capacity * 2
    while c < needed { c *= 2 }
    let b = UnsafeMutablePointer<UInt8>.allocate(capacity: c)
    b.initialize(from: base, count: count)
    base.deallocate()
    base = b
    capacity = c
  }

  @inline(__always)
  mutating func append(_ p: UnsafeBufferPointer<UInt8>) {
    guard let src = p.baseAddress, p.count > 0 else { return }
    reserve(p.count)
    (base + count).initialize(from: src, count: p.count)
    count += p.count
  }

  @inline(__always)
  mutating func raw(_ s: StaticString) {
    append(UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
  }

  mutating func append(_ a: [UInt8]) {
    a.withUnsafeBufferPointer { append($0) }
  }

  /// `s` as a quoted JSON string, escaped by ``JSONEscape``.
  mutating func string(_ s: String) {
    var s = s
    s.withUTF8 { string($0) }
  }

  /// UTF-8 bytes `p` as a quoted JSON string, escaped by ``JSONEscape``.
  mutating func string(_ p: UnsafeBufferPointer<UInt8>) {
    let n = JSONEscape.quotedLength(p)
    reserve(n)
    count += JSONEscape.writeQuoted(p, length: n, to: base + count)
  }

  /// `v` in decimal.
  mutating func int(_ v: Int64) {
    reserve(20)
    count += JSONBytes.writeDecimal(v, to: base + count)
  }
}
