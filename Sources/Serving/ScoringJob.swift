import Foundation
import MRC

/// The windows of one request waiting for their logits. Its windows may be spread over several
/// batches (a long context, a big `answer:batch`); it completes when the last one is scored, or
/// fails at once when cancelled (timeout, shutdown, a failed forward pass).
///
/// Every mutable field is guarded by the owning `BatchScheduler`'s lock.
final class ScoringJob: @unchecked Sendable {
    let model: ServedModel
    let windows: [Window]
    /// When the job was queued: the batch it starts waits at most `--max-wait-ms` from here.
    let enqueued: ContinuousClock.Instant
    /// Whether the batch this job starts goes at once, without waiting for others (the warm-up).
    let urgent: Bool
    var scores: [SpanScores?]
    /// Which windows were handed to a batch (batches pick windows by length, not in order).
    var taken: [Bool]
    /// Windows not yet handed to a batch.
    private(set) var waitingWindows: Int
    /// Windows scored so far.
    var scored = 0
    /// Set once: the job's outcome.
    private(set) var outcome: Result<[SpanScores], any Error>?
    private var continuation: CheckedContinuation<[SpanScores], any Error>?

    init(model: ServedModel, windows: [Window], urgent: Bool = false) {
        self.model = model
        self.windows = windows
        self.urgent = urgent
        enqueued = .now
        scores = Array(repeating: nil, count: windows.count)
        taken = Array(repeating: false, count: windows.count)
        waitingWindows = windows.count
    }

    var isFinished: Bool { outcome != nil }

    /// Marks window `index` as handed to a batch.
    func take(_ index: Int) {
        precondition(!taken[index], "window handed out twice")
        taken[index] = true
        waitingWindows -= 1
    }

    /// Drops every window not yet handed out; returns how many.
    func dropWaiting() -> Int {
        let dropped = waitingWindows
        for index in taken.indices { taken[index] = true }
        waitingWindows = 0
        return dropped
    }

    /// Records the outcome (the first one wins) and resumes the waiting request, if it waits yet.
    func finish(_ result: Result<[SpanScores], any Error>) {
        guard outcome == nil else { return }
        outcome = result
        continuation?.resume(with: result)
        continuation = nil
    }

    /// Stores one window's logits; finishes the job when they are all in.
    func store(_ score: SpanScores, at index: Int) {
        guard outcome == nil, scores[index] == nil else { return }
        scores[index] = score
        scored += 1
        if scored == windows.count { finish(.success(scores.map { $0! })) }
    }

    /// Waits for the outcome; `lock` is the scheduler's.
    func wait(lock: NSCondition) async throws -> [SpanScores] {
        try await withCheckedThrowingContinuation { continuation in
            lock.lock()
            defer { lock.unlock() }
            if let outcome {
                continuation.resume(with: outcome)
            } else {
                self.continuation = continuation
            }
        }
    }
}
