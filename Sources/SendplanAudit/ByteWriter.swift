import SendplanJSON

/// A growable byte buffer written through a raw pointer.
///
/// The audit encoder appends about 140 bytes for each of millions of records; going through
/// `Array`'s per-append uniqueness and capacity checks cost more than hashing them.
final class ByteWriter {
  private(set) var base: UnsafeMutablePointer<UInt8>
  private(set) var count = 0
  private var capacity: Int

  /// Buffers start on a page boundary, so a segment can be written with direct I/O without a copy.
  static let alignment = 4096

  init(capacity: Int = 4096) {
    self.capacity = max(64, capacity)
    base = Self.allocate(self.capacity)
  }

  deinit { base.deallocate() }

  private static func allocate(_ capacity: Int) -> UnsafeMutablePointer<UInt8> {
    UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: alignment).bindMemory(
      to: UInt8.self, capacity: capacity)
  }

  func reset() { count = 0 }

  @inline(__always)
  func ensure(_ extra: Int) {
    if count + extra > capacity { grow(count + extra) }
  }

  private func grow(_ needed: Int) {
    var c = capacity * 2
    while c < needed { c *= 2 }
    let fresh = Self.allocate(c)
    fresh.update(from: base, count: count)
    base.deallocate()
    base = fresh
    capacity = c
  }

  @inline(__always)
  func byte(_ b: UInt8) {
    ensure(1)
    base[count] = b
    count += 1
  }

  @inline(__always)
  func raw(_ s: StaticString) {
    let n = s.utf8CodeUnitCount
    ensure(n)
    (base + count).update(from: s.utf8Start, count: n)
    count += n
  }

  func raw(_ p: UnsafeRawBufferPointer) {
    ensure(p.count)
    if let src = p.baseAddress { (base + count).update(from: src.assumingMemoryBound(to: UInt8.self), count: p.count) }
    count += p.count
  }

  func raw(_ a: [UInt8]) {
    a.withUnsafeBytes { raw($0) }
  }

  func int(_ v: Int64) {
    ensure(20)
    count += JSONBytes.writeDecimal(v, to: base + count)
  }

  private static let hexDigits: StaticString = "0123456789abcdef"

  /// A quoted JSON string (``JSONEscape``).
  func string(_ s: String) {
    var s = s
    s.withUTF8 { p in
      let n = JSONEscape.quotedLength(p)
      ensure(n)
      count += JSONEscape.writeQuoted(p, length: n, to: base + count)
    }
  }

  /// 64 lower-case hex digits.
  func hex(_ h: Hash32) { hex(h, bytes: 32) }

  /// The first `RecordEncoder.tagLength` hex digits.
  func hexTag(_ h: Hash32) { hex(h, bytes: RecordEncoder.tagLength / 2) }

  private func hex(_ h: Hash32, bytes n: Int) {
    ensure(2 * n)
    var h = h
    withUnsafeBytes(of: &h) { p in
      for i in 0..<n {
        let b = p[i]
        base[count + 2 * i] = ByteWriter.hexDigits.utf8Start[Int(b >> 4)]
        base[count + 2 * i + 1] = ByteWriter.hexDigits.utf8Start[Int(b & 15)]
      }
    }
    count += 2 * n
  }

  var bytes: [UInt8] { Array(UnsafeBufferPointer(start: base, count: count)) }

  func buffer(from: Int) -> UnsafeRawBufferPointer {
    UnsafeRawBufferPointer(start: base + from, count: count - from)
  }
}
