import Dispatch
import Foundation
import SendplanDiagnostics
import SendplanModel
import Synchronization

/// Reads an export bundle folder (planning-rules §1).
package enum BundleReader {
  static let suffixes = [".csv", ".jsonl", ".csv.gz", ".jsonl.gz"]

  /// Reads every table file of the bundle at `path`, two files at a time.
  ///
  /// Throws ``SendplanErrors`` listing the first structural error of every file that has one.
  /// With a `filter`, rows of the tenants it drops are counted and checked for structure only.
  package static func read(path: String, filter: TenantFilter? = nil) throws(SendplanErrors) -> ExportBundle {
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else {
      throw SendplanErrors([
        SendplanError(
          .missing, code: "bundle_missing", path: path, line: nil,
          message: "the bundle folder does not exist or is not a folder",
          fix: "pass the folder that holds the exported table files")
      ])
    }
    let entries: [String]
    do {
      entries = try FileManager.default.contentsOfDirectory(atPath: path)
    } catch {
      throw SendplanErrors([
        SendplanError(
          .io, code: "bundle_unreadable", path: path, line: nil,
          message: "cannot list the bundle folder", fix: "check the folder's permissions")
      ])
    }
    var found: [Table: [String]] = [:]
    var ignored: [String] = []
    for e in entries {
      if let t = table(forFileName: e) {
        found[t, default: []].append(e)
      } else {
        ignored.append(e)
      }
    }
    var errors: [SendplanError] = []
    var jobs: [TableReader] = []
    for t in Table.allCases {
      let names = (found[t] ?? []).sorted { ByteOrder.less($0, $1) }
      if names.count > 1 {
        errors.append(
          SendplanError(
            .badData, code: "duplicate_table", path: names.joined(separator: ", "), line: nil,
            message: "\(names.count) files hold the \(t.rawValue) table",
            fix: "keep exactly one file for \(t.rawValue)"))
      } else if let name = names.first {
        let full = (path as NSString).appendingPathComponent(name)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), isDirectory.boolValue {
          errors.append(
            SendplanError(
              .badData, code: "not_a_file", path: name, line: nil, message: "is a folder, not a file",
              fix: "replace it with the exported table file"))
        } else {
          jobs.append(TableReader(table: t, path: full, name: name, filter: filter))
        }
      } else if t.isRequired {
        errors.append(
          SendplanError(
            .badData, code: "missing_table", path: "\(t.rawValue).csv", line: nil,
            message: "the required table \(t.rawValue) is missing from the bundle",
            fix: "export \(t.rawValue) as \(t.rawValue).csv or \(t.rawValue).jsonl (names are case-sensitive)"))
      }
    }
    // Largest files first so two threads finish together.
    let sizes = jobs.map { (try? FileManager.default.attributesOfItem(atPath: $0.path)[.size] as? Int) ?? 0 }
    let order = jobs.indices.sorted { sizes[$0] > sizes[$1] }
    let results = Mutex<[Int: Result<TableResult, SendplanError>]>([:])
    let frozenJobs = jobs
    DispatchQueue.concurrentPerform(iterations: order.count) { k in
      let idx = order[k]
      let r: Result<TableResult, SendplanError>
      do throws(SendplanError) {
        r = .success(try frozenJobs[idx].read())
      } catch {
        r = .failure(error)
      }
      results.withLock { $0[idx] = r }
    }
    var inputs: [InputFile] = []
    var tenants: [ID: TenantInput] = [:]
    var dropped = Set<ID>()
    let all = results.withLock { $0 }
    for idx in jobs.indices {
      switch all[idx] {
      case .success(let res):
        inputs.append(res.info)
        dropped.formUnion(res.dropped)
        for (cid, part) in res.tenants {
          tenants[cid, default: TenantInput(customerID: cid)].absorb(part)
        }
      case .failure(let e):
        errors.append(e)
      case nil:
        break
      }
    }
    if !errors.isEmpty {
      throw SendplanErrors(errors)
    }
    let sorted = tenants.values.sorted { $0.customerID < $1.customerID }
    var bundle = ExportBundle(inputs: inputs, ignored: ignored.sorted { ByteOrder.less($0, $1) }, tenants: sorted)
    bundle.tenantsDropped = dropped.count
    return bundle
  }

  /// The table a file name holds, or nil for a file the bundle ignores. Names match case-sensitively.
  package static func table(forFileName name: String) -> Table? {
    for t in Table.allCases {
      for s in suffixes where ByteOrder.equal(name, t.rawValue + s) {
        return t
      }
    }
    return nil
  }
}

extension TenantInput {
  /// Adds one table's rows for this tenant.
  mutating func absorb(_ other: TenantInput) {
    identities += other.identities
    templates += other.templates
    sequences += other.sequences
    steps += other.steps
    enrollments += other.enrollments
    batches += other.batches
    recipients += other.recipients
    suppressions += other.suppressions
    issues += other.issues
    fileNames.merge(other.fileNames) { a, _ in a }
  }
}
