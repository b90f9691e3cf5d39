import Foundation
import MRC

/// Dynamic batching: the windows of concurrent requests are queued; one dedicated thread (the
/// models' forward passes are synchronous and not reentrant) takes the oldest window's model, waits
/// — while requests announced as arriving (`announce()`: being read, parsed, tokenised) may still
/// add windows — until its queued windows could fill `maxBatchTokens` token positions or the oldest
/// has waited `maxWait`, runs a batch — the oldest window and the queued windows of lengths nearest to it that
/// fit the budget (`BatchPacking.choose`: little padding) — on the engine's worker threads, and
/// scatters the logits back to their requests. Every batch takes the oldest window, so no window
/// waits behind an endless stream of others; a batch holds one model's windows.
///
/// The queue is bounded (`maxQueueWindows`): a request whose windows do not fit is refused at once
/// with 503 and a Retry-After estimated from the recent throughput. A request that waits past its
/// deadline fails with 504 and its windows still queued are dropped.
public final class BatchScheduler: @unchecked Sendable {
    /// When a request must be answered by (`--request-timeout` after it arrived).
    public struct RequestDeadline: Sendable {
        public var instant: ContinuousClock.Instant
        /// The timeout it was set from, for the 504's message.
        public var seconds: Double

        public init(timeout seconds: Double, from start: ContinuousClock.Instant = .now) {
            self.seconds = seconds
            instant = start + .milliseconds(Int64((seconds * 1000).rounded()))
        }
    }

    public struct Settings: Sendable, Equatable {
        public var maxBatchTokens: Int
        public var maxWait: Duration
        public var maxQueueWindows: Int

        public init(maxBatchTokens: Int = 8192, maxWait: Duration = .milliseconds(5), maxQueueWindows: Int = 1024) {
            self.maxBatchTokens = maxBatchTokens
            self.maxWait = maxWait
            self.maxQueueWindows = maxQueueWindows
        }
    }

    public let settings: Settings
    let metrics: ServingMetrics
    private let lock = NSCondition()
    /// Jobs with windows not yet handed to a batch, oldest first. Guarded by `lock`.
    private var queue: [ScoringJob] = []
    private var queuedWindows = 0
    /// Requests announced that have not queued their windows yet.
    private var arriving = 0
    private var stopping = false
    private var started = false
    private var exited = false
    private var exitWaiters: [CheckedContinuation<Void, Never>] = []
    /// Recent throughput (windows per second of forward time, smoothed) for Retry-After.
    private var windowsPerSecond = 0.0

    public init(settings: Settings, metrics: ServingMetrics) {
        self.settings = settings
        self.metrics = metrics
    }

    /// Scores `windows` with `model` in the batches of the queue; throws 503 when the queue is
    /// full or the scheduler stopping, 504 when `deadline` passes first. An `urgent` request's batch
    /// does not wait for others. `announced`: the request was announced (`announce()`) and now
    /// arrives, whether it is queued or refused.
    public func score(_ windows: [Window], model: ServedModel, deadline: RequestDeadline,
                      urgent: Bool = false, announced: Bool = false) async throws -> [SpanScores] {
        if announced { withdraw() }
        guard !windows.isEmpty else { return [] }
        let job = ScoringJob(model: model, windows: windows, urgent: urgent)
        try enqueue(job)
        return try await withThrowingTaskGroup(of: [SpanScores]?.self) { group in
            group.addTask { try await job.wait(lock: self.lock) }
            group.addTask {
                do { try await Task.sleep(until: deadline.instant, clock: .continuous) } catch {}
                return nil
            }
            defer { group.cancelAll() }
            while let first = try await group.next() {
                if let scores = first { return scores }
                // The deadline passed (or the request was cancelled): fail the job, drop its windows.
                cancel(job, with: Task.isCancelled ? CancellationError() : ServingError.timeout(seconds: deadline.seconds))
            }
            throw CancellationError()
        }
    }

    /// A request is on its way (its body being read, parsed, tokenised): a batch may wait for its
    /// windows, up to `maxWait`. Every announcement ends with `withdraw()` or an `announced` score.
    public func announce() {
        lock.lock()
        arriving += 1
        lock.unlock()
    }

    /// An announced request will queue nothing (refused, or queued through `score(announced:)`).
    public func withdraw() {
        lock.lock()
        arriving -= 1
        lock.signal()
        lock.unlock()
    }

    private func enqueue(_ job: ScoringJob) throws(ServingError) {
        lock.lock()
        defer { lock.unlock() }
        guard started, !stopping else { throw .unavailable(stopping ? "the server is shutting down" : "the server is not started") }
        guard queuedWindows + job.windows.count <= settings.maxQueueWindows else {
            let drain = windowsPerSecond > 0 ? Double(queuedWindows + job.windows.count) / windowsPerSecond : 1
            throw .queueFull(windows: job.windows.count, limit: settings.maxQueueWindows, retryAfter: max(1, Int(drain.rounded(.up))))
        }
        queue.append(job)
        queuedWindows += job.windows.count
        metrics.setQueue(windows: queuedWindows)
        lock.signal()
    }

    private func cancel(_ job: ScoringJob, with error: any Error) {
        lock.lock()
        defer { lock.unlock() }
        if job.waitingWindows > 0 {
            queuedWindows -= job.dropWaiting()
            queue.removeAll { $0 === job }
            metrics.setQueue(windows: queuedWindows)
        }
        job.finish(.failure(error))
    }

    /// Windows queued now (for tests and /ready).
    public var queueDepth: Int {
        lock.lock()
        defer { lock.unlock() }
        return queuedWindows
    }

    /// Starts the batching thread (once).
    public func start() {
        lock.lock()
        defer { lock.unlock() }
        guard !started else { return }
        started = true
        let thread = Thread { [self] in
            run()
            lock.lock()
            exited = true
            let waiters = exitWaiters
            exitWaiters = []
            lock.unlock()
            for waiter in waiters { waiter.resume() }
        }
        thread.name = "mrc-batcher"
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Stops taking requests, scores what is queued, and returns when the thread has exited.
    public func shutdown() async {
        await withCheckedContinuation { continuation in
            lock.lock()
            stopping = true
            lock.broadcast()
            if exited || !started {
                lock.unlock()
                continuation.resume()
            } else {
                exitWaiters.append(continuation)
                lock.unlock()
            }
        }
    }

    /// The batching loop: until stopped and drained, take a batch, score it, scatter the logits.
    private func run() {
        while let (model, batch) = nextBatch() {
            let windows = batch.map { $0.job.windows[$0.index] }
            let started = ContinuousClock.now
            let result = Result(catching: { try model.scores(windows) })
            let elapsed = started.duration(to: .now)
            lock.lock()
            switch result {
            case .success(let scores):
                for (position, entry) in batch.enumerated() { entry.job.store(scores[position], at: entry.index) }
            case .failure(let error):
                for entry in batch { entry.job.finish(.failure(ServingError(.internalServerError, "inference failed: \(error)"))) }
            }
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            if seconds > 0 {
                let rate = Double(windows.count) / seconds
                windowsPerSecond = windowsPerSecond == 0 ? rate : 0.8 * windowsPerSecond + 0.2 * rate
            }
            lock.unlock()
            let width = BatchPacking.paddedWidth(longest: windows.map(\.length).max() ?? 0, windowSize: windows[0].inputIds.count)
            metrics.recordBatch(model: model.name, windows: windows.count, paddedTokens: windows.count * width,
                                realTokens: windows.reduce(0) { $0 + $1.length }, duration: elapsed)
        }
    }

    /// Blocks until a batch is due; nil when stopping with nothing left to score.
    private func nextBatch() -> (ServedModel, [(job: ScoringJob, index: Int)])? {
        lock.lock()
        defer { lock.unlock() }
        while true {
            while queue.isEmpty && !stopping { lock.wait() }
            guard let head = queue.first else { return nil }
            // Wait for more windows of the head's model while requests are arriving, up to maxWait after
            // the head was queued (a lone request is not kept waiting for company that is not coming).
            let due = head.enqueued + settings.maxWait
            while !stopping, !head.urgent, arriving > 0, queue.first === head, !isFull(model: head.model), ContinuousClock.now < due {
                let remaining = ContinuousClock.now.duration(to: due)
                let seconds = Double(remaining.components.seconds) + Double(remaining.components.attoseconds) * 1e-18
                _ = lock.wait(until: Date(timeIntervalSinceNow: seconds))
            }
            guard queue.first === head else { continue }  // the head was cancelled meanwhile
            return (head.model, take(model: head.model))
        }
    }

    /// The queued windows of `model`, oldest first.
    private func queued(model: ServedModel) -> [(job: ScoringJob, index: Int)] {
        queue.filter { $0.model === model }.flatMap { job in job.windows.indices.filter { !job.taken[$0] }.map { (job, $0) } }
    }

    private func isFull(model: ServedModel) -> Bool {
        BatchPacking.fills(lengths: queued(model: model).lazy.map { $0.job.windows[$0.index].length },
                           windowSize: model.windowSettings.maxSeqLen, budget: settings.maxBatchTokens)
    }

    /// Hands the next batch of `model`'s windows out of the queue: the oldest window and the queued
    /// windows of lengths nearest to it that fit the budget (`BatchPacking.choose`).
    private func take(model: ServedModel) -> [(job: ScoringJob, index: Int)] {
        let candidates = queued(model: model)
        let chosen = BatchPacking.choose(lengths: candidates.map { $0.job.windows[$0.index].length }, head: 0,
                                         windowSize: model.windowSettings.maxSeqLen, budget: settings.maxBatchTokens)
        let batch = chosen.map { candidates[$0] }
        for entry in batch { entry.job.take(entry.index) }
        queue.removeAll { $0.waitingWindows == 0 }
        queuedWindows -= batch.count
        metrics.setQueue(windows: queuedWindows)
        return batch
    }
}
