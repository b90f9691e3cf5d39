import Foundation
import Logging
import MRC
import ServiceLifecycle
import Synchronization

/// One answer: text cut from the context, its character range in Unicode code points (Python's
/// `str` indices; `end` exclusive), and its probability among the question's n-best candidates.
public struct Answer: Sendable, Equatable {
    public var text: String
    public var start: Int
    public var end: Int
    public var score: Double

    public init(text: String, start: Int, end: Int, score: Double) {
        self.text = text
        self.start = start
        self.end = end
        self.score = score
    }

    /// The null answer ("", 0, 0): SQuAD 2.0 decided there is none, or no span was valid.
    static let none = Answer(text: "", start: 0, end: 0, score: 0)
}

/// The answers to one question: the best first, then up to `top_k − 1` alternatives; for a model that may
/// abstain, the null score minus the best span's score (`null_odds.json`'s number): the answer is "" when it
/// exceeds the model's threshold.
public struct ItemAnswers: Sendable, Equatable {
    public var answers: [Answer]
    public var nullScore: Double?
    public var best: Answer { answers[0] }
}

/// The question-answering pipeline behind the routes, and the service that owns the batching
/// thread: windows (as `predict` builds them) → the batching queue → the span decoder. Ready once
/// every model has run a full-size batch (which also sizes the engine's buffers for the largest
/// batch, so memory stays flat afterwards). On graceful shutdown it stops taking requests and
/// finishes those queued.
public final class AnswerService: Service, Sendable {
    public let catalog: ModelCatalog
    public let scheduler: BatchScheduler
    public let metrics: ServingMetrics
    public let parser: RequestParser
    /// Windows one request may make (`--max-windows`).
    public let maxWindows: Int
    /// Seconds a request may take (`--request-timeout`).
    public let requestTimeout: Double
    let logger: Logger
    private let readiness = Mutex(false)

    public init(catalog: ModelCatalog, scheduler: BatchScheduler, metrics: ServingMetrics, maxWindows: Int,
                requestTimeout: Double, maxItems: Int, logger: Logger) {
        self.catalog = catalog
        self.scheduler = scheduler
        self.metrics = metrics
        self.maxWindows = maxWindows
        self.requestTimeout = requestTimeout
        self.logger = logger
        let settings = catalog.models.map(\.decoderSettings)
        parser = RequestParser(limits: QueryLimits(maxTopK: settings.map(\.nBest).min() ?? 1,
                                                   maxAnswerLength: catalog.models.map(\.windowSettings.maxSeqLen).min() ?? 1,
                                                   maxItems: maxItems))
    }

    /// Whether every model is loaded and warmed up (and the server not shutting down).
    public var isReady: Bool { readiness.withLock { $0 } }

    private func setReady(_ ready: Bool) {
        readiness.withLock { $0 = ready }
        metrics.setReady(ready)
    }

    public func run() async throws {
        scheduler.start()
        let started = ContinuousClock.now
        try await warmUp()
        setReady(true)
        logger.info("ready", metadata: ["models": "\(catalog.models.map(\.name).joined(separator: ","))",
                                        "warm_up": "\(started.duration(to: .now))"])
        try? await gracefulShutdown()
        setReady(false)
        logger.info("shutting down: finishing queued windows", metadata: ["queued": "\(scheduler.queueDepth)"])
        await scheduler.shutdown()
    }

    /// Runs one full-size batch (windows of `--max-seq-len` tokens filling `--max-batch-tokens`) per model.
    func warmUp() async throws {
        for model in catalog.models {
            let size = model.windowSettings.maxSeqLen
            let context = Array(repeating: "warm up the model", count: size).joined(separator: " ")
            guard let window = model.windows(for: QuestionContext(question: "warm up", context: context)).windows.first else { continue }
            let rows = max(1, min(scheduler.settings.maxBatchTokens / BatchPacking.paddedWidth(longest: window.length, windowSize: size),
                                  scheduler.settings.maxQueueWindows))
            _ = try await scheduler.score(Array(repeating: window, count: rows), model: model,
                                          deadline: .init(timeout: 3600), urgent: true)
        }
    }

    /// Reads a request with `parse` and answers it (the JSON of the response). The request is
    /// announced to the batcher from the start, so that a batch may wait for its windows.
    public func respond(started: ContinuousClock.Instant = .now, _ parse: () async throws -> AnswerQuery) async throws -> JSONText {
        scheduler.announce()
        var announced = true
        defer { if announced { scheduler.withdraw() } }
        let query = try await parse()
        announced = false
        return ResponseEncoding.json(try await answer(query, started: started, announced: true), query: query)
    }

    /// Answers every item of `query` (windows of all items go to the queue together); `announced`:
    /// the request was announced to the batcher, which this call ends.
    public func answer(_ query: AnswerQuery, started: ContinuousClock.Instant = .now, announced: Bool = false) async throws -> [ItemAnswers] {
        var announced = announced
        defer { if announced { scheduler.withdraw() } }
        let model = try catalog.model(named: query.model)
        var examples: [(example: MRCExample, windows: Range<Int>)] = []
        var windows: [Window] = []
        for item in query.items {
            let (example, itemWindows) = model.windows(for: item.pair)
            guard !itemWindows.isEmpty else {
                throw ServingError.unprocessable("the context has no tokens to answer from", field: item.field("context"))
            }
            examples.append((example, windows.count..<(windows.count + itemWindows.count)))
            windows += itemWindows
        }
        guard windows.count <= maxWindows else {
            let field = query.items.count == 1 ? query.items[0].field("context") : String(query.items[0].path.prefix { $0 != "[" })
            throw ServingError.unprocessable(
                "the request makes \(windows.count) windows (--max-seq-len \(model.windowSettings.maxSeqLen), "
                    + "--doc-stride \(model.windowSettings.docStride)), more than --max-windows \(maxWindows)", field: field)
        }
        let handOver = announced
        announced = false  // `score` ends the announcement
        let scores = try await scheduler.score(windows, model: model, deadline: .init(timeout: requestTimeout, from: started),
                                               announced: handOver)
        return zip(query.items, examples).map { item, entry in
            let prediction = model.decoder(maxAnswerLength: item.maxAnswerLength)
                .decode(example: entry.example, windows: Array(windows[entry.windows]), scores: Array(scores[entry.windows]))
            return Self.answers(prediction, topK: item.topK)
        }
    }

    /// The decoder's answer first, then the other candidates, `topK` in all.
    static func answers(_ prediction: ExamplePrediction, topK: Int) -> ItemAnswers {
        func answer(_ candidate: SpanCandidate) -> Answer {
            Answer(text: candidate.text, start: candidate.characters?.lowerBound ?? 0, end: candidate.characters?.upperBound ?? 0,
                   score: candidate.probability)
        }
        // The decoder's text is the first candidate's, or "" when SQuAD 2.0 settings chose the null answer.
        let bestIndex = prediction.nBest.firstIndex { $0.text == prediction.text }
        let best = bestIndex.map { answer(prediction.nBest[$0]) } ?? .none
        let others = prediction.nBest.indices.filter { $0 != bestIndex }.prefix(topK - 1).map { answer(prediction.nBest[$0]) }
        return ItemAnswers(answers: [best] + others, nullScore: prediction.nullScoreDifference)
    }
}
