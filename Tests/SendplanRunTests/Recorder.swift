import SendplanRun
import Synchronization

/// Records a run's events in the order they arrive.
final class Recorder: RunObserver {
  let events = Mutex<[RunEvent]>([])

  func observe(_ event: RunEvent) { events.withLock { $0.append(event) } }

  var all: [RunEvent] { events.withLock { $0 } }
  var names: [String] { all.map(\.name) }
}

extension RunEvent {
  /// The case name, for comparing sequences of events (read by reflection, so new cases need no change here).
  var name: String {
    Mirror(reflecting: self).children.first?.label ?? String(describing: self)
  }
}
