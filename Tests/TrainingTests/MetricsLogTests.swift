import Foundation
import XCTest
@testable import Training

final class MetricsLogTests: XCTestCase {
    func testAppendReadAndTruncateOnResume() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metrics-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("metrics.jsonl")
        do {
            let log = try MetricsLog(url: url)
            for step in 1...5 {
                try log.append(StepMetrics(step: step, epoch: 0, loss: 5.0 / Double(step), learningRate: 1e-4,
                                           gradientNorm: .nan, tokensPerSecond: 900, elapsedSeconds: Double(step)))
            }
        }
        let text = try String(contentsOf: url, encoding: .utf8)
        XCTAssertTrue(text.hasPrefix("{\"elapsed_s\":1,\"epoch\":0,\"grad_norm\":\"nan\",\"learning_rate\":0.0001,\"loss\":5,\"step\":1,\"tokens_per_s\":900}\n"))
        do {
            let resumed = try MetricsLog(url: url, keepingStepsThrough: 3)
            try resumed.append(StepMetrics(step: 4, epoch: 0, loss: 1.5, learningRate: 1e-4, gradientNorm: 1,
                                           tokensPerSecond: 900, elapsedSeconds: 4))
        }
        let records = try MetricsLog.read(url)
        XCTAssertEqual(records.map(\.step), [1, 2, 3, 4])
        XCTAssertEqual(records.last?.loss, 1.5)
        XCTAssertTrue(records[0].gradientNorm.isNaN)
    }

    func testProgressTextAndClock() {
        XCTAssertEqual(ProgressLine.clock(3725), "1:02:05")
        let line = ProgressLine(totalSteps: 100, enabled: false)
        let text = line.text(for: StepMetrics(step: 10, epoch: 0, loss: 2.5, learningRate: 1e-4, gradientNorm: 1,
                                              tokensPerSecond: 1234, elapsedSeconds: 1), averageLoss: 3)
        XCTAssertTrue(text.hasPrefix("step 10/100 (10.0%) | loss 2.5000 (avg 3.0000) | lr 1.00e-04 | 1234 tok/s | ETA "), text)
    }
}

/// The progress bar of counted work (teach, predict): its line, without a terminal.
final class ProgressCounterTests: XCTestCase {
    func testLineShowsDoneRateAndETA() {
        let counter = ProgressCounter(label: "teach", total: 200, enabled: false)
        XCTAssertEqual(counter.text(done: 50, elapsed: 10),
                       "teach [######..................] 50/200 windows (25.0%) | 5.0 windows/s | ETA 0:00:30")
        XCTAssertEqual(counter.text(done: 200, elapsed: 40).suffix(9), "ETA 0:00:00".suffix(9))
    }
}
