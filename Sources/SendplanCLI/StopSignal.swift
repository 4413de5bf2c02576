import CSendplanSys

/// SIGTERM and SIGINT as a stop request: the handler only records the signal; the run asks between tenants.
enum StopSignal {
  /// Installs the handlers; `restore` puts the previous ones back.
  static func install() { sendplan_stop_install() }
  static func restore() { sendplan_stop_restore() }
  /// The signal received, or 0.
  static var received: Int32 { sendplan_stop_signal() }
  static var requested: Bool { received != 0 }
}
