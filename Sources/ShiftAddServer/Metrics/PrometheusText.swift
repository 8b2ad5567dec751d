import Foundation

/// Writes the Prometheus text exposition format (version 0.0.4). `constantLabels` (the served
/// model's name) go on every sample.
struct PrometheusText {
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    private(set) var text = ""
    let constantLabels: [(String, String)]

    init(constantLabels: [(String, String)] = []) { self.constantLabels = constantLabels }

    mutating func family(_ name: String, _ type: String, _ help: String) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
    }

    mutating func sample(_ name: String, _ labels: [(String, String)] = [], _ value: Double) {
        text += name + Self.labelText(constantLabels + labels) + " " + Self.format(value) + "\n"
    }

    mutating func counter(_ name: String, _ help: String, _ value: Double) {
        family(name, "counter", help)
        sample(name, [], value)
    }

    mutating func gauge(_ name: String, _ help: String, _ value: Double) {
        family(name, "gauge", help)
        sample(name, [], value)
    }

    /// A labeled counter family; samples in a stable (sorted) order.
    mutating func counter(_ name: String, _ help: String, _ counter: LabeledCounter) {
        family(name, "counter", help)
        for (values, value) in counter.values.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            sample(name, Array(zip(counter.labels, values)), value)
        }
    }

    mutating func histogram(_ name: String, _ help: String, _ h: Histogram) {
        family(name, "histogram", help)
        for (bound, count) in h.cumulative {
            sample(name + "_bucket", [("le", Self.format(bound))], Double(count))
        }
        sample(name + "_sum", [], h.sum)
        sample(name + "_count", [], Double(h.count))
    }

    static func format(_ x: Double) -> String {
        if x.isNaN { return "NaN" }
        if x.isInfinite { return x > 0 ? "+Inf" : "-Inf" }
        if x == x.rounded(), abs(x) < 1e15 { return String(Int64(x)) }
        return "\(x)"
    }

    static func labelText(_ labels: [(String, String)]) -> String {
        guard !labels.isEmpty else { return "" }
        let parts = labels.map { name, value in
            let escaped = value.replacingOccurrences(of: "\\", with: "\\\\")
                .replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
            return "\(name)=\"\(escaped)\""
        }
        return "{" + parts.joined(separator: ",") + "}"
    }
}
