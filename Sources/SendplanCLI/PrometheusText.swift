/// One metric family in the Prometheus text exposition format (version 0.0.4).
package struct MetricFamily: Sendable, Equatable {
  package struct Sample: Sendable, Equatable {
    /// Label names and values; written sorted by name.
    package var labels: [String: String]
    package var value: Double

    package init(_ labels: [String: String] = [:], _ value: Double) {
      self.labels = labels
      self.value = value
    }
  }

  package var name: String
  package var help: String
  /// `gauge` or `counter`.
  package var type: String
  package var samples: [Sample]

  package init(name: String, help: String, type: String = "gauge", samples: [Sample]) {
    self.name = name
    self.help = help
    self.type = type
    self.samples = samples
  }
}

/// Renders metric families for node_exporter's textfile collector.
package enum PrometheusText {
  /// Families in the order given; samples sorted by their label text, so equal inputs give equal bytes.
  package static func render(_ families: [MetricFamily]) -> [UInt8] {
    var out = ""
    for f in families {
      out += "# HELP \(f.name) \(escapeHelp(f.help))\n"
      out += "# TYPE \(f.name) \(f.type)\n"
      let lines = f.samples.map { s -> String in
        let names = s.labels.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        let labels =
          names.isEmpty
          ? "" : "{" + names.map { "\($0)=\"\(escapeLabel(s.labels[$0] ?? ""))\"" }.joined(separator: ",") + "}"
        return f.name + labels + " " + number(s.value)
      }
      for l in lines.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) { out += l + "\n" }
    }
    return Array(out.utf8)
  }

  /// Label values may hold anything; backslash, double quote and newline are escaped as the format asks.
  static func escapeLabel(_ s: String) -> String { escape(s, quote: true) }

  /// HELP text escapes backslash and newline only.
  static func escapeHelp(_ s: String) -> String { escape(s, quote: false) }

  static func escape(_ s: String, quote: Bool) -> String {
    var out = ""
    for c in s.unicodeScalars {
      switch c {
      case "\\": out += "\\\\"
      case "\"" where quote: out += "\\\""
      case "\n": out += "\\n"
      default: out.unicodeScalars.append(c)
      }
    }
    return out
  }

  /// Integers without a fraction; others with up to three decimals.
  static func number(_ v: Double) -> String {
    if v.isNaN { return "NaN" }
    if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
    if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
    let ms = (v * 1000).rounded() / 1000
    return String(ms)
  }
}
