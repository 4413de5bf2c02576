import Foundation
import SendplanAudit
import SendplanDiagnostics
import SendplanModel
import SendplanTestSupport
import Testing

@Suite struct AuditExportTests {
  @Test func exportIsSelfContainedAndVerifies() throws {
    let f = try AuditFixture()
    let tarPath = f.root.appendingPathComponent("acme.tar").path
    let archive = try AuditExport.archive(root: f.audit, customerID: ID("acme"))
    try Data(archive).write(to: URL(fileURLWithPath: tarPath))
    #expect(
      try AuditExport.archive(root: f.audit, customerID: ID("acme")) == archive, "the same stream, the same bytes")
    let dest = f.root.appendingPathComponent("extracted")
    try FileManager.default.createDirectory(at: dest, withIntermediateDirectories: true)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/tar")
    p.arguments = ["-xf", tarPath, "-C", dest.path]
    try p.run()
    p.waitUntilExit()
    #expect(p.terminationStatus == 0)
    #expect(FileManager.default.fileExists(atPath: dest.path + "/README.txt"))
    let keys = try FileManager.default.contentsOfDirectory(atPath: dest.path + "/public-keys")
    #expect(keys.count == 1)
    let key = try AuditKeys.loadPublic(dest.path + "/public-keys/" + keys[0])
    #expect(key.rawRepresentation == f.key?.publicKey.rawRepresentation)
    let r = try AuditVerifier.verify(root: dest.path, publicKey: key)
    #expect(r.valid, "\(r.problems)")
    #expect(r.summary.contains("2/2 runs valid"))
  }

  @Test func anUnknownCustomerHasNoStreamToExport() throws {
    let f = try AuditFixture(runs: 1)
    let e = #expect(throws: SendplanError.self) { try AuditExport.archive(root: f.audit, customerID: ID("nobody")) }
    #expect(e?.code == "stream_not_found" && e?.kind == .missing)
  }
}
