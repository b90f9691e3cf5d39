import Foundation
import XCTest
@testable import Training

final class LearningRateScheduleTests: XCTestCase {
    func testLinearWarmupThenLinearDecayToZero() {
        let schedule = LearningRateSchedule(peak: 1e-4, warmupRatio: 0.1, totalSteps: 606)
        XCTAssertEqual(schedule.warmupSteps, 61, "ceil(0.1 × 606)")
        XCTAssertEqual(schedule.learningRate(atStep: 0), 0)
        XCTAssertEqual(schedule.learningRate(atStep: 30), 1e-4 * 30 / 61, accuracy: 1e-18)
        XCTAssertEqual(schedule.learningRate(atStep: 61), 1e-4, accuracy: 1e-18)
        XCTAssertEqual(schedule.learningRate(atStep: 300), 1e-4 * Double(606 - 300) / Double(606 - 61), accuracy: 1e-18)
        XCTAssertEqual(schedule.learningRate(atStep: 606), 0)
        XCTAssertEqual(schedule.learningRate(atStep: 700), 0, "never negative past the end")
    }

    func testNoWarmupStartsAtPeak() {
        let schedule = LearningRateSchedule(peak: 3e-5, warmupSteps: 0, totalSteps: 10)
        XCTAssertEqual(schedule.learningRate(atStep: 0), 3e-5)
        XCTAssertEqual(schedule.learningRate(atStep: 5), 1.5e-5, accuracy: 1e-18)
    }
}

final class GradientClippingTests: XCTestCase {
    func testNormAndClippingOverChunks() {
        let count = (1 << 18) * 3 + 5
        var gradients = [Float](repeating: 0.001, count: count)
        gradients[count - 1] = 3
        let expectedNorm = (Double(count - 1) * 0.001 * 0.001 + 9).squareRoot()
        let norm = GradientClipping.clip(&gradients, count: count, maxNorm: 1.0)
        XCTAssertEqual(norm, expectedNorm, accuracy: 1e-6 * expectedNorm)
        let after = GradientClipping.globalNorm(gradients, count: count)
        XCTAssertEqual(after, 1.0, accuracy: 1e-5)
    }

    func testSmallGradientsAreUntouched() {
        var gradients: [Float] = [0.3, -0.4]
        XCTAssertEqual(GradientClipping.clip(&gradients, count: 2, maxNorm: 1.0), 0.5, accuracy: 1e-7)
        XCTAssertEqual(gradients, [0.3, -0.4])
    }

    func testNonFiniteNormIsReportedAndGradientsKept() {
        var gradients: [Float] = [1, .nan, 2]
        XCTAssertTrue(GradientClipping.clip(&gradients, count: 3, maxNorm: 1.0).isNaN)
        var infinite: [Float] = [1, .infinity]
        XCTAssertFalse(GradientClipping.clip(&infinite, count: 2, maxNorm: 1.0).isFinite)
        XCTAssertEqual(infinite[0], 1)
    }
}

final class EMATests: XCTestCase {
    func testBiasCorrectedAverageOfZeroStartedShadow() throws {
        let ema = try EMA(decay: 0.9, count: 3)
        let first: [Float] = [1, 2, 3], second: [Float] = [3, 2, 1]
        ema.update(weights: first)
        var average = [Float](repeating: 0, count: 3)
        try ema.writeAverage(into: &average)
        // After one update the corrected average is exactly the weights: 0.1·w / (1 − 0.9).
        for i in 0..<3 { XCTAssertEqual(average[i], first[i], accuracy: 1e-6) }
        ema.update(weights: second)
        try ema.writeAverage(into: &average)
        // shadow = 0.9·0.1·w1 + 0.1·w2; corrected by 1/(1 − 0.81) → (0.09·w1 + 0.1·w2)/0.19.
        for i in 0..<3 {
            XCTAssertEqual(average[i], (0.09 * first[i] + 0.1 * second[i]) / 0.19, accuracy: 1e-6)
            XCTAssertEqual(ema.shadow[i], 0.09 * first[i] + 0.1 * second[i], accuracy: 1e-6)
        }
        XCTAssertEqual(ema.updates, 2)
    }

    func testRefusesBadDecayAndEmptyAverage() throws {
        XCTAssertThrowsError(try EMA(decay: 1.0, count: 1))
        XCTAssertThrowsError(try EMA(decay: 0, count: 1))
        var out: [Float] = [0]
        XCTAssertThrowsError(try EMA(decay: 0.99, count: 1).writeAverage(into: &out))
    }
}
