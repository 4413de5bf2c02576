import Foundation
import SendplanDiagnostics
import SendplanInput
import SendplanModel
import SendplanTestSupport

/// Writes a minimal valid bundle to a fresh temporary folder; tests replace single files.
struct BundleFixture {
  let dir: URL

  static let defaults: [String: String] = [
    "identities.csv": "customer_id,identity_id,status\nacme,i1,verified\n",
    "templates.csv": "customer_id,template_id,status\nacme,t1,active\n",
    "sequences.csv": "customer_id,sequence_id,status,identity_id\nacme,s1,active,i1\n",
    "steps.csv": "customer_id,sequence_id,step_order,template_id\nacme,s1,1,t1\n",
    "enrollments.csv": "customer_id,enrollment_id,sequence_id,status\nacme,e1,s1,active\n",
    "recipients.csv": "customer_id,enrollment_id,recipient_id,email\nacme,e1,r1,a@x.test\n",
    "suppressions.csv": "customer_id,type,value\n",
  ]

  init(_ overrides: [String: String?] = [:]) throws {
    dir = try scratchFolder("input")
    var files = BundleFixture.defaults.mapValues { Optional($0) }
    for (k, v) in overrides { files[k] = v }
    for (name, content) in files {
      guard let content else { continue }
      try Data(content.utf8).write(to: dir.appendingPathComponent(name))
    }
  }

  func write(_ name: String, bytes: [UInt8]) throws {
    try Data(bytes).write(to: dir.appendingPathComponent(name))
  }

  func remove(_ name: String) throws {
    try FileManager.default.removeItem(at: dir.appendingPathComponent(name))
  }

  func read() throws(SendplanErrors) -> ExportBundle {
    try BundleReader.read(path: dir.path)
  }

  /// Reads and returns the structural errors, or an empty list when reading succeeds.
  func errors() -> [SendplanError] {
    do {
      _ = try read()
      return []
    } catch {
      return error.errors
    }
  }

  func tenant(_ id: String = "acme") throws -> TenantInput? {
    try read().tenants.first { $0.customerID == ID(id) }
  }
}
