// What the server counts itself (HTTP requests by route and status, end-to-end request latency per
// route, tokens streamed, client disconnects) and the Prometheus text exposition of those plus the
// engine's counters, gauges and histograms (GET /metrics).
import Engine
import Foundation

public final class ServerMetrics: @unchecked Sendable {
    private let lock = NSLock()
    private var requests: [RouteStatus: UInt64] = [:]
    private var latency: [String: LatencyHistogram] = [:]
    private var disconnects: UInt64 = 0
    private var stopStringHits: UInt64 = 0
    private var inFlight = 0

    struct RouteStatus: Hashable { var route: String; var status: Int }

    public init() {}

    /// The route label: known paths as they are, anything else "other" (bounded label set).
    static func routeLabel(_ path: String) -> String {
        let known = ["/v1/chat/completions", "/v1/completions", "/v1/models", "/health", "/metrics"]
        let trimmed = path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? path
        return known.contains(trimmed) ? trimmed : "other"
    }

    func requestStarted() { lock.lock(); inFlight += 1; lock.unlock() }

    /// A response finished (its body fully written or abandoned).
    func requestFinished(route: String, status: Int, seconds: Double) {
        lock.lock(); defer { lock.unlock() }
        inFlight -= 1
        requests[RouteStatus(route: route, status: status), default: 0] += 1
        latency[route, default: LatencyHistogram()].observe(seconds)
    }

    func clientDisconnected() { lock.lock(); disconnects += 1; lock.unlock() }
    func stopStringMatched() { lock.lock(); stopStringHits += 1; lock.unlock() }

    /// Requests answered with `status` on `route` so far (tests).
    public func count(route: String, status: Int) -> UInt64 {
        lock.lock(); defer { lock.unlock() }
        return requests[RouteStatus(route: route, status: status)] ?? 0
    }

    public var disconnectCount: UInt64 { lock.lock(); defer { lock.unlock() }; return disconnects }

    // MARK: Prometheus text format 0.0.4

    public func prometheusText(engine m: EngineMetrics, model: String) -> String {
        lock.lock()
        let requests = self.requests, latency = self.latency, disconnects = self.disconnects
        let stopHits = self.stopStringHits, inFlight = self.inFlight
        lock.unlock()

        var out = ""
        func header(_ name: String, _ type: String, _ help: String) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        }
        func sample(_ name: String, _ labels: [(String, String)] = [], _ value: String) {
            if labels.isEmpty { out += "\(name) \(value)\n"; return }
            let l = labels.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",")
            out += "\(name){\(l)} \(value)\n"
        }
        func histogram(_ name: String, _ help: String, _ series: [([(String, String)], LatencyHistogram)]) {
            header(name, "histogram", help)
            for (labels, h) in series {
                for (i, bound) in h.bounds.enumerated() {
                    sample(name + "_bucket", labels + [("le", format(bound))], String(h.counts[i]))
                }
                sample(name + "_bucket", labels + [("le", "+Inf")], String(h.count))
                sample(name + "_sum", labels, format(h.sum))
                sample(name + "_count", labels, String(h.count))
            }
        }
        // A metric with one unlabelled (or fixed-label) sample: its HELP/TYPE header and the value.
        func single<V: BinaryInteger>(_ name: String, _ type: String, _ help: String, labels: [(String, String)] = [],
                                       _ value: V) {
            header(name, type, help)
            sample(name, labels, String(value))
        }

        header("gptoss_http_requests_total", "counter", "HTTP requests answered, by route and status code.")
        for key in requests.keys.sorted(by: { ($0.route, $0.status) < ($1.route, $1.status) }) {
            sample("gptoss_http_requests_total", [("route", key.route), ("status", String(key.status))],
                   String(requests[key] ?? 0))
        }
        single("gptoss_http_requests_in_flight", "gauge", "HTTP requests being answered now.", inFlight)
        histogram("gptoss_http_request_duration_seconds",
                  "Request start to last byte of the response (whole stream for SSE), by route.",
                  latency.keys.sorted().map { ([("route", $0)], latency[$0]!) })
        single("gptoss_client_disconnects_total", "counter", "Requests cancelled because the client went away.", disconnects)
        single("gptoss_stop_string_matches_total", "counter", "Generations ended by a `stop` string.", stopHits)

        single("gptoss_engine_requests_submitted_total", "counter", "Requests the engine accepted.", m.requestsSubmitted)
        single("gptoss_engine_requests_rejected_total", "counter", "Requests the engine refused (invalid or shutting down).", m.requestsRejected)
        single("gptoss_engine_requests_failed_total", "counter", "Requests ended by a backend failure.", m.requestsFailed)
        header("gptoss_engine_requests_finished_total", "counter", "Requests finished, by reason.")
        for reason in [FinishReason.stop, .length, .cancelled] {
            sample("gptoss_engine_requests_finished_total", [("reason", reason.rawValue)],
                   String(m.requestsFinished[reason] ?? 0))
        }
        single("gptoss_prompt_tokens_total", "counter", "Prompt tokens submitted.", labels: [("model", model)], m.promptTokens)
        single("gptoss_generation_tokens_total", "counter", "Tokens sampled.", labels: [("model", model)], m.generatedTokens)
        single("gptoss_engine_steps_total", "counter", "Backend steps run.", m.steps)
        single("gptoss_engine_step_tokens_total", "counter", "Tokens fed through backend steps (prefill + decode).", m.stepTokens)
        single("gptoss_prompt_tokens_reused_total", "counter", "Prompt tokens taken from a kept KV slot instead of prefilled.",
               m.promptTokensReused)
        single("gptoss_queue_length", "gauge", "Requests waiting for a KV slot.", m.queueLength)
        single("gptoss_active_sequences", "gauge", "Requests holding a KV slot.", m.activeSequences)
        single("gptoss_kv_slots", "gauge", "KV slots (sequences that can run at once).", m.maxSlots)
        single("gptoss_kv_slots_in_use", "gauge", "KV slots held by running requests.", m.activeSequences)
        single("gptoss_kv_tokens_in_use", "gauge", "Tokens held in KV caches.", m.kvTokensInUse)
        single("gptoss_kv_tokens_capacity", "gauge", "Tokens all KV slots can hold.", m.kvTokenCapacity)
        histogram("gptoss_queue_wait_seconds", "Submit to admission into a KV slot.", [([], m.queueWait)])
        histogram("gptoss_time_to_first_token_seconds", "Submit to first sampled token.", [([], m.timeToFirstToken)])
        histogram("gptoss_request_latency_seconds", "Submit to finish, for requests that finished.",
                  [([], m.requestLatency)])
        return out
    }

    private func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    private func format(_ d: Double) -> String {
        if d == d.rounded(), abs(d) < 1e15 { return String(Int(d)) }
        return String(d)
    }
}
