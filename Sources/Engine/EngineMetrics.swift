// Counters, gauges and latency histograms the engine keeps (read by `gptoss serve`'s /metrics and by
// the CLI's summaries).

/// A cumulative histogram with fixed upper bounds (Prometheus style: bucket i counts values <= bounds[i]).
public struct LatencyHistogram: Sendable, Equatable {
    public static let defaultBounds: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]
    public let bounds: [Double]
    /// counts[i] = observations <= bounds[i] (cumulative); observations above every bound only count in `count`.
    public private(set) var counts: [UInt64]
    public private(set) var count: UInt64 = 0
    public private(set) var sum: Double = 0

    public init(bounds: [Double] = LatencyHistogram.defaultBounds) {
        self.bounds = bounds; self.counts = Array(repeating: 0, count: bounds.count)
    }
    public mutating func observe(_ seconds: Double) {
        count += 1; sum += seconds
        for i in bounds.indices where seconds <= bounds[i] { counts[i] += 1 }
    }
}

/// A snapshot of the engine's counters, gauges and histograms (`GenerationService.metrics()`).
public struct EngineMetrics: Sendable, Equatable {
    // Counters since the engine started.
    public var requestsSubmitted: UInt64 = 0
    public var requestsRejected: UInt64 = 0
    public var requestsFinished: [FinishReason: UInt64] = [:]
    public var requestsFailed: UInt64 = 0
    public var promptTokens: UInt64 = 0
    public var generatedTokens: UInt64 = 0
    /// Backend steps run, and tokens fed through them (prefill + decode).
    public var steps: UInt64 = 0
    public var stepTokens: UInt64 = 0
    /// Prompt tokens not fed to the backend because a kept slot already held them (prefix reuse).
    public var promptTokensReused: UInt64 = 0
    // Gauges.
    public var queueLength: Int = 0
    public var activeSequences: Int = 0
    public var maxSlots: Int = 0
    /// Tokens held in KV caches now, and what all slots could hold.
    public var kvTokensInUse: Int = 0
    public var kvTokenCapacity: Int = 0
    // Latencies in seconds.
    public var queueWait = LatencyHistogram()
    public var timeToFirstToken = LatencyHistogram()
    public var requestLatency = LatencyHistogram()

    public init() {}
}
