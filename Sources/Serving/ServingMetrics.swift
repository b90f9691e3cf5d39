import Foundation
import Prometheus

/// The server's Prometheus metrics (swift-prometheus), rendered at `/metrics` in the text format:
///
/// - `mrc_http_requests_total{route, status}` — requests answered, by route and HTTP status;
/// - `mrc_http_request_duration_seconds{route}` — latency histogram;
/// - `mrc_batch_windows{model}`, `mrc_batch_tokens{model}` — windows and padded token positions per
///   forward batch; `mrc_batch_seconds{model}` — a batch's forward time;
/// - `mrc_queue_windows` — windows waiting for a batch (the queue depth);
/// - `mrc_tokens_total{model}` — real (unpadded) tokens scored: `rate()` of it is tokens/s;
///   `mrc_tokens_per_second{model}` — the last batch's tokens over its forward time;
/// - `mrc_ready` — 1 once every model is loaded and warmed up.
///
/// One registry per server (no process-wide metrics system), so tests can run several servers.
public final class ServingMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    let queueWindows: Gauge
    let ready: Gauge

    static let latencyBuckets: [Duration] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30].map { .milliseconds(Int64($0 * 1000)) }
    static let windowBuckets: [Double] = [1, 2, 4, 8, 16, 32, 64, 128, 256]
    static let tokenBuckets: [Double] = [128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768]
    static let batchSecondBuckets: [Duration] = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5].map { .milliseconds(Int64($0 * 1000)) }

    /// `mrc_<name>_<unit>` with its help line.
    static func name(_ name: String, unit: String = "", _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "mrc", metricName: name, unitName: unit, helpText: help)
    }

    public init() {
        queueWindows = registry.makeGauge(descriptor: Self.name("queue_windows", "Windows waiting for a batch"))
        ready = registry.makeGauge(descriptor: Self.name("ready", "1 once every model is loaded and warmed up"))
    }

    /// Counts one answered request and its latency.
    public func recordRequest(route: String, status: Int, duration: Duration) {
        registry.makeCounter(descriptor: Self.name("http_requests", unit: "total", "HTTP requests answered, by route and status"),
                             labels: [("route", route), ("status", String(status))]).increment()
        registry.makeDurationHistogram(descriptor: Self.name("http_request_duration", unit: "seconds", "HTTP request latency"),
                                       labels: [("route", route)], buckets: Self.latencyBuckets).record(duration)
    }

    /// Records one forward batch.
    func recordBatch(model: String, windows: Int, paddedTokens: Int, realTokens: Int, duration: Duration) {
        let labels = [("model", model)]
        registry.makeValueHistogram(descriptor: Self.name("batch_windows", "Windows per forward batch"), labels: labels,
                                    buckets: Self.windowBuckets).record(Double(windows))
        registry.makeValueHistogram(descriptor: Self.name("batch_tokens", "Token positions (padded) per forward batch"),
                                    labels: labels, buckets: Self.tokenBuckets).record(Double(paddedTokens))
        registry.makeDurationHistogram(descriptor: Self.name("batch", unit: "seconds", "Forward time of a batch"), labels: labels,
                                       buckets: Self.batchSecondBuckets).record(duration)
        registry.makeCounter(descriptor: Self.name("tokens", unit: "total", "Real (unpadded) tokens scored"), labels: labels)
            .increment(by: Int64(realTokens))
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
        if seconds > 0 {
            registry.makeGauge(descriptor: Self.name("tokens_per_second", "Tokens per second of the last batch's forward pass"),
                               labels: labels).set(to: Double(realTokens) / seconds)
        }
    }

    func setQueue(windows: Int) { queueWindows.set(to: Double(windows)) }

    func setReady(_ isReady: Bool) { ready.set(to: isReady ? 1 : 0) }

    /// The Prometheus text exposition.
    public func render() -> String { registry.emitToString() }
}
