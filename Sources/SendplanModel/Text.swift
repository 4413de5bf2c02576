/// A field's UTF-8 bytes, kept in a chunk that holds the same field of many rows.
///
/// A `String` of more than 15 bytes is one heap allocation per row; a bundle's e-mail addresses
/// as strings were most of `validate`'s page faults and allocator time. Rows hold a `Text`
/// instead: a reference to a shared chunk plus where the bytes lie in it. Equality is byte-wise,
/// like ``ID``'s.
package struct Text: Sendable, Equatable, CustomStringConvertible, ExpressibleByStringInterpolation {
  /// Nil for the empty text, which needs no chunk.
  @usableFromInline let chunk: TextChunk?
  @usableFromInline let offset: Int32
  @usableFromInline let length: Int32

  @inlinable
  init(chunk: TextChunk?, offset: Int, length: Int) {
    self.chunk = chunk
    self.offset = Int32(offset)
    self.length = Int32(length)
  }

  /// `s`'s bytes in a chunk of their own (tests, and rows read back from a report).
  package init(_ s: String) {
    var arena = TextArena()
    var s = s
    self = s.withUTF8 { arena.text($0) }
  }

  /// No bytes, and no chunk to hold them.
  package static let empty = Text(chunk: nil, offset: 0, length: 0)

  package init(stringLiteral value: String) { self.init(value) }

  package init(stringInterpolation: DefaultStringInterpolation) {
    self.init(String(stringInterpolation: stringInterpolation))
  }

  /// The bytes as a `String`; one allocation when they are more than 15.
  package var string: String { withBytes { String(decoding: $0, as: UTF8.self) } }

  package var description: String { string }

  /// Calls `body` with the bytes, which stay valid only inside it.
  @inlinable @inline(__always)
  package func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
    try body(UnsafeBufferPointer(start: chunk.map { $0.base + Int(offset) }, count: Int(length)))
  }

  package static func == (a: Text, b: Text) -> Bool {
    guard a.length == b.length else { return false }
    if a.chunk === b.chunk && a.offset == b.offset { return true }
    return a.withBytes { p in b.withBytes { q in p.elementsEqual(q) } }
  }
}

/// One block of text bytes. The bytes a ``Text`` points at are written once, before the `Text`
/// exists, and never change; that is what makes sharing a chunk between threads safe.
@usableFromInline
final class TextChunk: @unchecked Sendable {
  @usableFromInline let base: UnsafeMutablePointer<UInt8>

  @usableFromInline
  init(capacity: Int) {
    base = .allocate(capacity: max(1, capacity))
  }

  deinit { base.deallocate() }
}

/// Appends texts to chunks of ``chunkBytes``; one reader thread owns each arena.
package struct TextArena {
  /// Bytes per chunk: large enough that allocation is rare, small enough that a chunk shared by a
  /// few tenants' rows costs little memory after most of them are gone.
  @usableFromInline static let chunkBytes = 64 << 10

  // The fill state lives here, not in the chunk: a class's stored `var` is checked for exclusive
  // access at run time on every use, and each text would pay for that.
  @usableFromInline var chunk: TextChunk?
  @usableFromInline var used = 0
  @usableFromInline var capacity = 0

  package init() {}

  /// A copy of `p` in the arena.
  @inlinable @inline(__always)
  package mutating func text(_ p: UnsafeBufferPointer<UInt8>) -> Text {
    let n = p.count
    guard capacity - used >= n, let c = chunk else { return refill(p) }
    if let src = p.baseAddress, n > 0 { (c.base + used).update(from: src, count: n) }
    let t = Text(chunk: c, offset: used, length: n)
    used += n
    return t
  }

  /// The slow path of ``text(_:)``: a new chunk, or a chunk of its own for a long value.
  @usableFromInline
  mutating func refill(_ p: UnsafeBufferPointer<UInt8>) -> Text {
    let n = p.count
    // A long value gets a chunk of its own, so the current chunk's room is not wasted.
    let c = TextChunk(capacity: n > TextArena.chunkBytes / 4 ? n : TextArena.chunkBytes)
    if let src = p.baseAddress, n > 0 { c.base.update(from: src, count: n) }
    if n <= TextArena.chunkBytes / 4 {
      chunk = c
      used = n
      capacity = TextArena.chunkBytes
    }
    return Text(chunk: c, offset: 0, length: n)
  }
}
