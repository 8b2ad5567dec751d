/// A Prometheus histogram: cumulative counts per upper bound, plus the sum and count of observations.
struct Histogram: Sendable {
    let bounds: [Double]
    /// Observations in each bucket (not cumulative); the last one is above every bound.
    private(set) var buckets: [UInt64]
    private(set) var sum: Double = 0
    private(set) var count: UInt64 = 0

    init(bounds: [Double]) {
        self.bounds = bounds
        buckets = Array(repeating: 0, count: bounds.count + 1)
    }

    mutating func observe(_ x: Double) {
        let i = bounds.firstIndex { x <= $0 } ?? bounds.count
        buckets[i] += 1
        sum += x
        count += 1
    }

    /// (bound, cumulative count) pairs ending with +Inf.
    var cumulative: [(Double, UInt64)] {
        var total: UInt64 = 0
        return (bounds + [.infinity]).enumerated().map { i, bound in
            total += buckets[i]
            return (bound, total)
        }
    }

    /// Bucket bounds for latencies from milliseconds to minutes.
    static let latencySeconds: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160]
    /// Finer bounds for the time between two tokens of one sequence.
    static let interTokenSeconds: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.15, 0.25, 0.5, 1, 2.5]
    /// Token counts, powers of four up to the longest contexts.
    static let tokens: [Double] = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262_144]
}

/// Counters split by label values, e.g. requests by (route, status).
struct LabeledCounter: Sendable {
    let labels: [String]
    private(set) var values: [[String]: Double] = [:]

    init(labels: [String]) { self.labels = labels }

    mutating func add(_ labelValues: [String], _ amount: Double = 1) {
        values[labelValues, default: 0] += amount
    }
}
