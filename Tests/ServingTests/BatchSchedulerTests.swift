import Foundation
import MRC
import Text
import TestSupport
import Training
import XCTest
@testable import Serving

/// The dynamic batcher: results equal the predictor's, concurrent requests share batches, and the
/// queue's limits (503), deadlines (504) and drain on shutdown.
final class BatchSchedulerTests: XCTestCase {
    func tinyModel() throws -> ServedModel {
        try ServedModel(name: "tiny", directories: [ServingTestSupport.tinyModel], windowSettings: ServingTestSupport.tinyWindows,
                        decoderSettings: SpanDecoderSettings())
    }

    func requestWindows(_ model: ServedModel, count: Int) throws -> [[Window]] {
        let examples = try MRCReader.read(TestPaths.fixture("training/tiny_squad.json")).examples
        return examples.prefix(count).map { model.windows(for: QuestionContext(question: $0.question, context: $0.context.string)).windows }
    }

    /// `name{model="tiny"} value` from the metrics text.
    func metric(_ metrics: ServingMetrics, _ name: String) -> Double? {
        for line in metrics.render().split(separator: "\n") where line.hasPrefix(name + "{") || line.hasPrefix(name + " ") {
            return Double(line.split(separator: " ").last!)
        }
        return nil
    }

    func testConcurrentRequestsShareBatchesAndGetThePredictorsLogits() async throws {
        let model = try tinyModel()
        let metrics = ServingMetrics()
        let scheduler = BatchScheduler(settings: .init(maxBatchTokens: 4096, maxWait: .milliseconds(300), maxQueueWindows: 1024),
                                       metrics: metrics)
        scheduler.start()
        let requests = try requestWindows(model, count: 8)
        XCTAssertGreaterThan(requests.map(\.count).max()!, 1, "some request must span several windows")
        // The requests are announced (as the routes do when a request comes in): batches wait for them.
        for _ in requests { scheduler.announce() }
        let results = try await withThrowingTaskGroup(of: (Int, [SpanScores]).self) { group in
            for (index, windows) in requests.enumerated() {
                group.addTask { (index, try await scheduler.score(windows, model: model, deadline: .init(timeout: 60), announced: true)) }
            }
            var results = [[SpanScores]](repeating: [], count: requests.count)
            for try await (index, scores) in group { results[index] = scores }
            return results
        }
        await scheduler.shutdown()
        // Alone, one window per forward pass: batching may change only the last bits (PredictorTests' bound).
        for (windows, scores) in zip(requests, results) {
            XCTAssertEqual(scores.count, windows.count)
            for (window, score) in zip(windows, scores) {
                let alone = try model.predictor.scores([window])[0]
                XCTAssertEqual(score.startLogits.count, window.length)
                for t in 0..<window.length {
                    XCTAssertEqual(score.startLogits[t], alone.startLogits[t], accuracy: 1e-4)
                    XCTAssertEqual(score.endLogits[t], alone.endLogits[t], accuracy: 1e-4)
                }
            }
        }
        let batches = try XCTUnwrap(metric(metrics, "mrc_batch_windows_count"))
        let windows = try XCTUnwrap(metric(metrics, "mrc_batch_windows_sum"))
        XCTAssertEqual(Int(windows), requests.map(\.count).reduce(0, +))
        XCTAssertLessThanOrEqual(batches, 2, "8 requests queued within 300 ms must share batches")
        XCTAssertEqual(metric(metrics, "mrc_queue_windows"), 0)
    }

    func testALoneRequestIsNotKeptWaitingForCompany() async throws {
        let model = try tinyModel()
        let scheduler = BatchScheduler(settings: .init(maxBatchTokens: 4096, maxWait: .seconds(20), maxQueueWindows: 1024),
                                       metrics: ServingMetrics())
        scheduler.start()
        let started = ContinuousClock.now
        _ = try await scheduler.score(try requestWindows(model, count: 1)[0], model: model, deadline: .init(timeout: 60))
        XCTAssertLessThan(started.duration(to: .now), .seconds(5), "nothing was arriving: the batch must not wait 20 s")
        await scheduler.shutdown()
    }

    func testABatchNeverExceedsTheTokenBudget() async throws {
        let model = try tinyModel()
        let metrics = ServingMetrics()
        // Two full windows (32 positions) per batch at most.
        let scheduler = BatchScheduler(settings: .init(maxBatchTokens: 64, maxWait: .milliseconds(200), maxQueueWindows: 1024),
                                       metrics: metrics)
        scheduler.start()
        let windows = try requestWindows(model, count: 6).flatMap { $0 }
        let scores = try await scheduler.score(windows, model: model, deadline: .init(timeout: 60))
        await scheduler.shutdown()
        XCTAssertEqual(scores.count, windows.count)
        let batches = try XCTUnwrap(metric(metrics, "mrc_batch_windows_count"))
        let tokens = try XCTUnwrap(metric(metrics, "mrc_batch_tokens_sum"))
        XCTAssertLessThanOrEqual(tokens, batches * 64)
        XCTAssertGreaterThanOrEqual(batches, Double(windows.count) / 8, "a long request is spread over several batches")
    }

    func testAFullQueueRefusesWith503AndRetryAfter() async throws {
        let model = try tinyModel()
        let scheduler = BatchScheduler(settings: .init(maxBatchTokens: 1 << 20, maxWait: .seconds(30), maxQueueWindows: 4),
                                       metrics: ServingMetrics())
        scheduler.start()
        scheduler.announce()  // a request that never comes: the first batch waits for it
        let windows = try requestWindows(model, count: 8).flatMap { $0 }
        let first = Task { try await scheduler.score(Array(windows.prefix(3)), model: model, deadline: .init(timeout: 60)) }
        while scheduler.queueDepth < 3 { try await Task.sleep(for: .milliseconds(5)) }
        do {
            _ = try await scheduler.score(Array(windows.prefix(2)), model: model, deadline: .init(timeout: 60))
            XCTFail("a request beyond the queue was accepted")
        } catch let error as ServingError {
            XCTAssertEqual(error.status, .serviceUnavailable)
            XCTAssertGreaterThanOrEqual(error.retryAfter ?? 0, 1)
        }
        await scheduler.shutdown()  // drains: the first request is answered
        let scores = try await first.value
        XCTAssertEqual(scores.count, 3)
    }

    func testADeadlinePassedIs504AndItsWindowsLeaveTheQueue() async throws {
        let model = try tinyModel()
        let scheduler = BatchScheduler(settings: .init(maxBatchTokens: 1 << 20, maxWait: .seconds(30), maxQueueWindows: 100),
                                       metrics: ServingMetrics())
        scheduler.start()
        scheduler.announce()  // a request that never comes: the batch waits for it
        let windows = try requestWindows(model, count: 2).flatMap { $0 }
        let started = ContinuousClock.now
        do {
            _ = try await scheduler.score(windows, model: model, deadline: .init(timeout: 0.05))
            XCTFail("answered past its deadline")
        } catch let error as ServingError {
            XCTAssertEqual(error.status, .gatewayTimeout)
            XCTAssertTrue(error.message.contains("0.05 s"), error.message)
        }
        XCTAssertLessThan(started.duration(to: .now), .seconds(5))
        XCTAssertEqual(scheduler.queueDepth, 0)
        await scheduler.shutdown()
    }

    func testShutdownFinishesQueuedRequestsThenRefuses() async throws {
        let model = try tinyModel()
        let scheduler = BatchScheduler(settings: .init(maxBatchTokens: 1 << 20, maxWait: .seconds(30), maxQueueWindows: 100),
                                       metrics: ServingMetrics())
        scheduler.start()
        scheduler.announce()  // a request that never comes: the batch waits for it
        let requests = try requestWindows(model, count: 3)
        let tasks = requests.map { windows in
            Task { try await scheduler.score(windows, model: model, deadline: .init(timeout: 60)) }
        }
        while scheduler.queueDepth < requests.map(\.count).reduce(0, +) { try await Task.sleep(for: .milliseconds(5)) }
        await scheduler.shutdown()
        for (task, windows) in zip(tasks, requests) {
            let scores = try await task.value
            XCTAssertEqual(scores.count, windows.count)
        }
        do {
            _ = try await scheduler.score(requests[0], model: model, deadline: .init(timeout: 60))
            XCTFail("accepted work after shutdown")
        } catch let error as ServingError {
            XCTAssertEqual(error.status, .serviceUnavailable)
        }
    }

    func testEnsembleAveragesItsMembersLogits() throws {
        let single = try tinyModel()
        let twice = try ServedModel(name: "twice", directories: [ServingTestSupport.tinyModel, ServingTestSupport.tinyModel],
                                    windowSettings: ServingTestSupport.tinyWindows, decoderSettings: SpanDecoderSettings())
        let windows = try requestWindows(single, count: 4).flatMap { $0 }
        let alone = try single.scores(windows)
        let averaged = try twice.scores(windows)
        for (a, b) in zip(alone, averaged) {
            XCTAssertEqual(a.startLogits, b.startLogits, "the mean of two equal members is that member, bit for bit")
            XCTAssertEqual(a.endLogits, b.endLogits)
        }
        XCTAssertEqual((twice.predictor.scorer as? EnsembleScorer)?.combination, .meanLogits, "serve averages raw logits")
    }
}
