import Foundation
import SendplanDiagnostics
import SendplanModel

@testable import SendplanEngine
@testable import SendplanInput

/// `csv`: the RFC 4180 tokenizer, fed in two chunks split where the first byte says.
///
/// Byte 0: bits 0-1 choose the known line-end style (a piece of a split file knows it), the rest
/// of the byte times the input length picks the chunk boundary. Every record's fields are read.
final class CSVFuzz: FuzzTarget {
  init(scratch: String) throws {}

  func run(_ data: [UInt8]) {
    guard let control = data.first else { return }
    let body = Array(data.dropFirst())
    let cut = body.count * Int(control >> 2) / 63
    let style: CSVTokenizer.LineEnd = [.unknown, .lf, .crlf, .unknown][Int(control & 3)]
    let tok = CSVTokenizer(file: "fuzz.csv", line: 1, lineEnd: style)
    var total = 0
    func onRecord() throws(SendplanError) {
      _ = tok.recordIsValidUTF8()
      FuzzCheck.that(tok.recordLine >= 1, "record line \(tok.recordLine)")
      for f in 0..<tok.fieldCount {
        total += try tok.withField(f) { (p) throws(SendplanError) in p.count }
      }
      if tok.fieldCount > 0 { _ = tok.field(0, equals: Array("customer_id".utf8)) }
    }
    do throws(SendplanError) {
      try body[..<cut].withUnsafeBufferPointer { (p) throws(SendplanError) in try tok.feed(p, emit: onRecord) }
      try body[cut...].withUnsafeBufferPointer { (p) throws(SendplanError) in try tok.feed(p, emit: onRecord) }
      try tok.finish(emit: onRecord)
    } catch {
      FuzzCheck.that(!error.code.isEmpty && error.line != nil, "CSV error without code or line: \(error)")
    }
    FuzzCheck.that(total <= body.count, "fields hold more bytes than the input")
  }
}

/// `jsonl`: the JSONL line parser over one table's columns (byte 0 picks the table), line by line.
final class JSONLFuzz: FuzzTarget {
  let parsers: [(JSONLineParser, Int)]

  init(scratch: String) throws {
    parsers = Table.allCases.map { t in
      let columns = TableSchema.of(t).columns
      return (JSONLineParser(columns: columns), columns.count)
    }
  }

  func run(_ data: [UInt8]) {
    guard let control = data.first else { return }
    var (parser, count) = parsers[Int(control) % parsers.count]
    var values = [FieldValue](repeating: .absent, count: count)
    for line in Array(data.dropFirst()).pieces(0x0A) {
      do throws(JSONLineParser.Failure) {
        try Array(line).withUnsafeBufferPointer { (p) throws(JSONLineParser.Failure) in
          try parser.parse(p, into: &values)
        }
      } catch {
        continue
      }
      FuzzCheck.that(values.count == count, "the parser changed the number of columns")
    }
  }
}

/// `bundle`: whole bundles through `BundleReader` and `Planner`.
///
/// The input is a bundle in one file: each `@@ NAME` line starts the file NAME (a plain name; a
/// `.gz` suffix is written as given), the lines up to the next such line are its bytes. Files are
/// split into pieces from 2 KiB on, so the parallel split reader is fuzzed too.
final class BundleFuzz: FuzzTarget {
  let dir: String
  let asOf = Timestamp(seconds: 1_795_831_200)  // 2026-11-27T02:00:00Z

  init(scratch: String) throws {
    dir = scratch + "/bundle"
  }

  /// The files of a bundle input: name and bytes (its lines joined by newlines), in order.
  static func files(_ data: [UInt8]) -> [(name: String, bytes: [UInt8])] {
    var out: [(name: String, lines: [ArraySlice<UInt8>])] = []
    let marker = Array("@@ ".utf8)
    for line in data.pieces(0x0A) {
      if line.starts(with: marker) {
        out.append((String(decoding: line.dropFirst(marker.count), as: UTF8.self), []))
      } else if !out.isEmpty {
        out[out.count - 1].lines.append(line)
      }
    }
    return out.map { f in (f.name, Array(f.lines.joined(separator: [0x0A]))) }
  }

  func run(_ data: [UInt8]) {
    Scratch.reset(dir)
    for (name, bytes) in Self.files(data) {
      guard !name.isEmpty, name.count <= 64, !name.contains("/"), name != ".", name != ".." else { continue }
      Scratch.write(dir + "/" + name, bytes)
    }
    let bundle: ExportBundle
    do throws(SendplanErrors) {
      bundle = try BundleReader.read(path: dir, pieceBytes: 2048)
    } catch {
      FuzzCheck.that(!error.errors.isEmpty, "a failed read lists no error")
      return
    }
    for tenant in bundle.tenants {
      switch Planner.plan(tenant, asOf: asOf) {
      case .success(let plan): FuzzCheck.that(plan.customerID == tenant.customerID, "plan of another tenant")
      case .failure: continue
      }
    }
  }
}

/// `values`: timestamps, emails, ids, integers, booleans, shards and hex, chosen by byte 0.
final class ValuesFuzz: FuzzTarget {
  init(scratch: String) throws {}

  func run(_ data: [UInt8]) {
    guard let control = data.first else { return }
    let raw = Array(data.dropFirst())
    let s = raw.text
    switch control % 6 {
    case 0:
      guard let t = Timestamp.parse(s) else { return }
      // Formatting keeps whole seconds; a time outside years 0000-9999 has no RFC 3339 form.
      let again = Timestamp.parse(t.rfc3339)
      FuzzCheck.that(
        again.map { $0.seconds == t.seconds } ?? !(-62_167_219_200..<253_402_300_800).contains(t.seconds),
        "\(s.debugDescription) -> \(t.rfc3339) changes")
      _ = t.compact
    case 1:
      let n = Email.check(s)
      FuzzCheck.that(n.value == Email.normalize(s), "check and normalize disagree on \(s.debugDescription)")
      FuzzCheck.that(Email.isValidNormalized(n.value) == n.isValid, "validity of \(s.debugDescription) changes")
      _ = Email.domain(of: n.value)
    case 2:
      let id = ID(s)
      let problem = Values.idProblem(s)
      let folder = FolderName.of(id)
      FuzzCheck.that(!folder.isEmpty && !folder.contains("/"), "folder name \(folder.debugDescription)")
      if problem == nil {
        _ = Shard.index(of: id, count: 7)
        _ = Shard.partition(of: id, count: 3)
      }
      _ = ByteOrder.less(s, "m")
    case 3:
      _ = Values.integer(s)
      _ = Values.boolean(s)
    case 4:
      if let shard = Shard(s) { _ = shard.contains(ID("acme")) }
    default:
      if let bytes = Hex.decode(raw) {
        FuzzCheck.that(Hex.decode(Array(Hex.encode(bytes).utf8)) == bytes, "hex round trip")
      }
    }
  }
}
