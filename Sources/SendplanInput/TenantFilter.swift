import SendplanModel
import Synchronization

/// Which tenants a read keeps, such as one shard's. Rows of other tenants are dropped as they are
/// parsed, so a shard holds and checks only its share; the decision is made once per customer id.
package final class TenantFilter: Sendable {
  private let decide: @Sendable (ID) -> Bool
  private let decided = Mutex<[ID: Bool]>([:])

  package init(_ decide: @escaping @Sendable (ID) -> Bool) {
    self.decide = decide
  }

  /// The tenants of one shard.
  package convenience init(shard: Shard) {
    self.init { shard.contains($0) }
  }

  /// Decided under the lock, so each id is decided exactly once even when tables are read in parallel.
  package func keeps(_ id: ID) -> Bool {
    decided.withLock { known in
      if let k = known[id] { return k }
      let keep = decide(id)
      known[id] = keep
      return keep
    }
  }
}
