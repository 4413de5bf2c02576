import Crypto

/// Derives a safe, collision-free folder name from any customer id.
///
/// The name is a readable prefix (ASCII letters folded to lower case, digits, `-` (not first) and `_`;
/// every other byte becomes `_`; at most 40 bytes; `tenant` when nothing is left) followed by
/// `-` and the first 16 hex digits of SHA-256 over the id's UTF-8 bytes. It never contains a
/// path separator, never starts with a dot, and is all lower case, so ids that differ only in
/// case (`ACME`, `acme`) still get different folders on a case-insensitive file system.
package enum FolderName {
  package static func of(_ customerID: ID) -> String {
    var prefix: [UInt8] = []
    for b in customerID.string.utf8 {
      if prefix.count >= 40 { break }
      switch b {
      case 0x2D: prefix.append(prefix.isEmpty ? 0x5F : b)
      case 0x61...0x7A, 0x30...0x39, 0x5F: prefix.append(b)
      case 0x41...0x5A: prefix.append(b | 0x20)
      default: prefix.append(0x5F)
      }
    }
    let head = prefix.isEmpty ? "tenant" : String(decoding: prefix, as: UTF8.self)
    return head + "-" + Hex.encode(SHA256.hash(data: Array(customerID.string.utf8)).prefix(8))
  }
}
