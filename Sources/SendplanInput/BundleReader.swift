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
  /// `pieceBytes` sets how large a plain CSV file must be to parse in pieces (tests make it small);
  /// `limits` how much of one record a reader may hold. Without `digests` the files are not
  /// hashed and every ``InputFile/sha256`` is empty (`validate` prints no digest). Without
  /// `emails` each recipient's address is checked but not kept (``RecipientRow/email`` is empty):
  /// `validate` reports no problem that depends on one, and they were a fifth of its memory.
  package static func read(
    path: String, filter: TenantFilter? = nil, pieceBytes: Int = CSVSplit.minPieceBytes, limits: ReadLimits = .default,
    digests: Bool = true, emails: Bool = true
  ) throws(SendplanErrors) -> ExportBundle {
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
    var folders: [Table: String] = [:]
    var ignored: [String] = []
    for e in entries {
      if let t = table(forFileName: e) {
        found[t, default: []].append(e)
      } else if let t = Table(rawValue: e), isDirectory((path as NSString).appendingPathComponent(e)) {
        folders[t] = e
      } else {
        ignored.append(e)
      }
    }
    var errors: [SendplanError] = []
    var jobs: [TableReader] = []
    var partNames: [Table: [String]] = [:]
    for t in Table.allCases {
      let names = (found[t] ?? []).sorted { ByteOrder.less($0, $1) }
      if let folder = folders[t] {
        guard names.isEmpty else {
          errors.append(
            SendplanError(
              .badData, code: "duplicate_table", path: ([folder + "/"] + names).joined(separator: ", "),
              message: "the \(t.rawValue) table is given both as a folder of part files and as a file",
              fix: "keep either the folder \(folder)/ or the file \(names[0]), not both"))
          continue
        }
        switch parts(of: t, folder: folder, in: path) {
        case .failure(let e): errors.append(e)
        case .success(let p):
          ignored += p.ignored
          if p.parts.isEmpty {
            if t.isRequired {
              errors.append(
                SendplanError(
                  .badData, code: "missing_table", path: folder + "/",
                  message: "the folder of the required table \(t.rawValue) holds no part files",
                  fix: "put the table's part files (.csv, .jsonl, optionally .gz) in \(folder)/"))
            }
            continue
          }
          partNames[t] = p.parts
          for (k, name) in p.parts.enumerated() {
            jobs.append(
              TableReader(
                table: t, path: (path as NSString).appendingPathComponent(name), name: name, part: k, filter: filter,
                pieceBytes: pieceBytes, limits: limits, digests: digests, emails: emails))
          }
        }
      } else if names.count > 1 {
        errors.append(
          SendplanError(
            .badData, code: "duplicate_table", path: names.joined(separator: ", "), line: nil,
            message: "\(names.count) files hold the \(t.rawValue) table",
            fix: "keep exactly one file for \(t.rawValue)"))
      } else if let name = names.first {
        let full = (path as NSString).appendingPathComponent(name)
        if isDirectory(full) {
          errors.append(
            SendplanError(
              .badData, code: "not_a_file", path: name, line: nil, message: "is a folder, not a file",
              fix: "replace it with the exported table file"))
        } else {
          partNames[t] = [name]
          jobs.append(
            TableReader(
              table: t, path: full, name: name, part: 0, filter: filter, pieceBytes: pieceBytes, limits: limits,
              digests: digests, emails: emails))
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
    errors += headerMismatches(jobs, all)
    if !errors.isEmpty {
      throw SendplanErrors(errors)
    }
    // Moved out of the dictionary one by one: sorting the values, or changing them while iterating
    // the keys, copied every tenant (and retained every row array) on one core.
    var sorted: [TenantInput] = []
    sorted.reserveCapacity(tenants.count)
    for cid in tenants.keys.sorted() {
      guard var t = tenants.removeValue(forKey: cid) else { continue }
      t.fileNames = partNames
      sorted.append(t)
    }
    var bundle = ExportBundle(inputs: inputs, ignored: ignored.sorted { ByteOrder.less($0, $1) }, tenants: sorted)
    bundle.tenantsDropped = dropped.count
    return bundle
  }

  /// Bytes of the bundle's table files, plain and gzip-compressed, for sizing a run before it reads.
  /// With `countingLines`, also the line feeds of the plain files (one read of each, no parse):
  /// a row costs memory of its own beside its bytes, so the row count sharpens the estimate.
  package static func inputSizes(path: String, countingLines: Bool = false) -> (
    plain: Int, compressed: Int, plainLines: Int
  ) {
    var plain = 0
    var compressed = 0
    var lines = 0
    func add(_ full: String, _ name: String) {
      guard suffixes.contains(where: { name.hasSuffix($0) }),
        let attributes = try? FileManager.default.attributesOfItem(atPath: full),
        let size = attributes[.size] as? Int
      else { return }
      if name.hasSuffix(".gz") {
        compressed += size
      } else {
        plain += size
        // Only a regular file is read ahead of the parse (a FIFO would lose its data to the count). One
        // that cannot be read counts a line per byte, so the estimate errs high; the read reports it.
        guard countingLines else { return }
        let regular = (attributes[.type] as? FileAttributeType) == .typeRegular
        lines += regular ? ((try? lineFeeds(full, name: name)) ?? size) : size
      }
    }
    for e in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] {
      let full = (path as NSString).appendingPathComponent(e)
      if isDirectory(full), Table(rawValue: e) != nil {
        for n in (try? FileManager.default.contentsOfDirectory(atPath: full)) ?? [] {
          add((full as NSString).appendingPathComponent(n), n)
        }
      } else {
        add(full, e)
      }
    }
    return (plain, compressed, lines)
  }

  /// The line feeds in a file, quoted ones included, counted eight bytes at a time.
  static func lineFeeds(_ path: String, name: String) throws(SendplanError) -> Int {
    let source = try FileSource(path: path, name: name)
    source.hashes = false
    var lines = 0
    try source.readToEnd(chunk: 1 << 18) { lines += quotesAndLines($0).lines }
    return lines
  }

  /// The part files of a table folder, sorted byte-wise, and the other names in it (ignored).
  /// Every part has the same format (suffix); hidden files and others, such as `_SUCCESS`, are ignored.
  static func parts(of table: Table, folder: String, in path: String) -> Result<
    (parts: [String], ignored: [String]), SendplanError
  > {
    let dir = (path as NSString).appendingPathComponent(folder)
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else {
      return .failure(
        SendplanError(
          .io, code: "bundle_unreadable", path: folder + "/", message: "cannot list the table folder",
          fix: "check the folder's permissions"))
    }
    var parts: [String] = []
    var ignored: [String] = []
    for n in names.sorted(by: { ByteOrder.less($0, $1) }) {
      let full = (dir as NSString).appendingPathComponent(n)
      if !n.hasPrefix("."), !n.hasPrefix("_"), suffixes.contains(where: { n.hasSuffix($0) }), !isDirectory(full) {
        parts.append(folder + "/" + n)
      } else {
        ignored.append(folder + "/" + n)
      }
    }
    let formats = Set(parts.map { n in suffixes.filter { n.hasSuffix($0) }.max { $0.count < $1.count } ?? "" })
    if formats.count > 1 {
      return .failure(
        SendplanError(
          .badData, code: "mixed_part_formats", path: folder + "/",
          message: "the part files of \(table.rawValue) mix formats (\(formats.sorted().joined(separator: ", ")))",
          fix: "export every part of a table in one format"))
    }
    return .success((parts, ignored))
  }

  /// Each CSV part file of a table must have the header of its first part.
  static func headerMismatches(_ jobs: [TableReader], _ results: [Int: Result<TableResult, SendplanError>])
    -> [SendplanError]
  {
    var first: [Table: (name: String, header: [String])] = [:]
    var errors: [SendplanError] = []
    for (i, job) in jobs.enumerated() {
      guard case .success(let r) = results[i], let header = r.header else { continue }
      guard let f = first[job.table] else {
        first[job.table] = (job.name, header)
        continue
      }
      if f.header != header {
        errors.append(
          SendplanError(
            .badData, code: "part_header_mismatch", path: job.name, line: 1,
            message: "the header differs from the header of \(f.name)",
            fix: "export every part of the table with the same columns in the same order"))
      }
    }
    return errors
  }

  static func isDirectory(_ path: String) -> Bool {
    var isDir: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
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
  /// Adds one table's rows for this tenant. Most tables arrive into empty arrays, which then share
  /// the other's storage instead of copying (and retaining) every row.
  mutating func absorb(_ other: TenantInput) {
    join(&identities, other.identities)
    join(&templates, other.templates)
    join(&sequences, other.sequences)
    join(&steps, other.steps)
    join(&enrollments, other.enrollments)
    join(&batches, other.batches)
    join(&recipients, other.recipients)
    join(&suppressions, other.suppressions)
    join(&issues, other.issues)
  }
}

@inline(__always)
private func join<T>(_ a: inout [T], _ b: [T]) {
  if a.isEmpty { a = b } else if !b.isEmpty { a += b }
}

extension TenantInput {
  /// Moves the line of every row and issue on by `d`: rows of a piece of a file whose lines were
  /// counted from 1 because the lines before the piece were not known yet.
  mutating func shiftLines(by d: Int) {
    for i in identities.indices { identities[i].line += d }
    for i in templates.indices { templates[i].line += d }
    for i in sequences.indices { sequences[i].line += d }
    for i in steps.indices { steps[i].line += d }
    for i in enrollments.indices { enrollments[i].line += d }
    for i in batches.indices { batches[i].line += d }
    for i in recipients.indices { recipients[i].line += d }
    for i in suppressions.indices { suppressions[i].line += d }
    for i in issues.indices { issues[i].line += d }
  }
}
