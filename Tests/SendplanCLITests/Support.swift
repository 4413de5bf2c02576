import Foundation
import SendplanCLI
import SendplanTestSupport
import Testing

let sampleAsOf = "2026-11-27T02:00:00Z"

/// Runs the CLI in process with a capturing console.
func sendplan(_ args: [String]) -> (code: Int32, out: String, err: String) {
  let console = Console(capturing: true)
  let code = Console.$current.withValue(console) { SendplanCommand.execute(args) }
  return (code, console.capturedOut, console.capturedErr)
}

/// A fresh temporary folder inside the test process's scratch folder.
func tempDir(_ label: String = "t") throws -> URL {
  try scratchFolder("cli-\(label)")
}

/// Copies the sample bundle, applying `edits` (file name to new content, nil to delete).
func bundle(from source: String = sampleBundle, _ edits: [String: String?] = [:]) throws -> URL {
  try bundleCopy(from: source, edits)
}

func readJSON(_ url: URL) throws -> [String: Any] {
  let obj = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
  return obj as? [String: Any] ?? [:]
}

/// The name of a customer's folder under `out/tenants` (sample customer ids are plain words).
func tenantFolder(_ out: URL, _ customer: String) throws -> String? {
  try FileManager.default.contentsOfDirectory(atPath: out.path + "/tenants").first { $0.hasPrefix(customer + "-") }
}

/// The sample bundle with every tenant copied `copies` times under ids `acme-0`, `globex-0`, ….
func multiTenantBundle(copies: Int) throws -> URL {
  let dir = try tempDir("tenants")
  for name in try FileManager.default.contentsOfDirectory(atPath: sampleBundle) {
    let text = try String(contentsOfFile: sampleBundle + "/" + name, encoding: .utf8)
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    if lines.last == "" { lines.removeLast() }
    var out: [String] = []
    if name.hasSuffix(".csv") {
      out.append(lines.removeFirst())
      for k in 0..<copies {
        for l in lines {
          guard let comma = l.firstIndex(of: ",") else { continue }
          out.append(l[..<comma] + "-\(k)" + l[comma...])
        }
      }
    } else {
      for k in 0..<copies {
        for l in lines {
          out.append(
            l.replacingOccurrences(of: #"("customer_id":"[^"]*)""#, with: "$1-\(k)\"", options: .regularExpression))
        }
      }
    }
    try Data((out.joined(separator: "\n") + "\n").utf8).write(to: dir.appendingPathComponent(name))
  }
  return dir
}

/// The built `sendplan` executable beside the test products.
func builtBinary() throws -> URL { try builtExecutable("sendplan") }

/// Runs the built binary; returns its exit status and standard error.
func runBinary(_ args: [String]) throws -> (code: Int32, err: String) {
  let p = Process()
  p.executableURL = try builtBinary()
  p.arguments = args
  let err = Pipe()
  p.standardError = err
  p.standardOutput = FileHandle.nullDevice
  try p.run()
  let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
  p.waitUntilExit()
  return (p.terminationStatus, text)
}

/// Every address-like value in the sample bundle.
func sampleAddresses() throws -> [String] {
  var found: Set<String> = []
  for name in try FileManager.default.contentsOfDirectory(atPath: sampleBundle) {
    let text = try String(contentsOfFile: sampleBundle + "/" + name, encoding: .utf8)
    for token in text.split(whereSeparator: { ",\n\"{}:".contains($0) }) where token.contains("@") {
      found.insert(token.trimmingCharacters(in: .whitespaces))
    }
  }
  return found.sorted()
}

/// A minimal reader of the Prometheus text format: samples by `name{labels}`, plus HELP and TYPE checks.
func parseMetrics(_ text: String) throws -> [String: Double] {
  var samples: [String: Double] = [:]
  var help: Set<String> = []
  var type: [String: String] = [:]
  for line in text.split(separator: "\n") {
    if line.hasPrefix("# HELP ") {
      help.insert(String(line.split(separator: " ")[2]))
    } else if line.hasPrefix("# TYPE ") {
      let parts = line.split(separator: " ")
      type[String(parts[2])] = String(parts[3])
    } else {
      let space = try #require(line.lastIndex(of: " "), "no value: \(line)")
      let key = String(line[..<space])
      let value = try #require(Double(line[line.index(after: space)...]), "bad value: \(line)")
      let name = String(key.prefix { $0 != "{" })
      #expect(name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" }, "bad name: \(line)")
      #expect(help.contains(name) && type[name] != nil, "no HELP or TYPE before \(line)")
      #expect(samples[key] == nil, "duplicate sample \(key)")
      samples[key] = value
    }
  }
  return samples
}
