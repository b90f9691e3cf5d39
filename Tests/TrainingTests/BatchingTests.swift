import Foundation
import XCTest
@testable import Training

final class BatchingTests: XCTestCase {
    func makeLengths(_ count: Int) -> [Int] {
        var generator = Xoshiro256(seed: 99)
        return (0..<count).map { _ in 20 + Int(generator.next() % 237) }
    }

    func testEveryWindowOnceAndBatchesPaddedToTheirLongest() throws {
        let lengths = makeLengths(1_003)
        let planner = try BatchPlanner(lengths: lengths, batchSize: 16, maxLength: 256, seed: 42, poolBatches: 10)
        let batches = planner.batches(epoch: 0)
        XCTAssertEqual(batches.count, planner.batchesPerEpoch)
        XCTAssertEqual(batches.count, 63)
        XCTAssertEqual(batches.flatMap(\.windows).sorted(), Array(0..<1_003), "every window exactly once, none dropped")
        XCTAssertEqual(batches.filter { $0.windows.count < 16 }.count, 1)
        for batch in batches {
            let longest = batch.windows.map { lengths[$0] }.max()!
            XCTAssertGreaterThanOrEqual(batch.paddedLength, longest)
            XCTAssertLessThanOrEqual(batch.paddedLength, 256)
            XCTAssertTrue(batch.paddedLength % 8 == 0 || batch.paddedLength == 256)
            XCTAssertLessThan(batch.paddedLength - longest, 8)
        }
        // Bucketing must actually cut padding compared with padding every window to max_seq_len.
        let padded = batches.reduce(0) { $0 + $1.paddedLength * $1.windows.count }
        XCTAssertLessThan(Double(padded), 0.75 * Double(1_003 * 256))
    }

    func testPlanIsAFunctionOfSeedAndEpoch() throws {
        let lengths = makeLengths(500)
        let a = try BatchPlanner(lengths: lengths, batchSize: 8, maxLength: 256, seed: 1)
        let b = try BatchPlanner(lengths: lengths, batchSize: 8, maxLength: 256, seed: 1)
        let c = try BatchPlanner(lengths: lengths, batchSize: 8, maxLength: 256, seed: 2)
        XCTAssertEqual(a.batches(epoch: 3), b.batches(epoch: 3))
        XCTAssertNotEqual(a.batches(epoch: 0), a.batches(epoch: 1), "each epoch has its own order")
        XCTAssertNotEqual(a.batches(epoch: 0), c.batches(epoch: 0), "the seed changes the order")
    }

    func testRefusesBadInput() {
        XCTAssertThrowsError(try BatchPlanner(lengths: [], batchSize: 8, maxLength: 256, seed: 0))
        XCTAssertThrowsError(try BatchPlanner(lengths: [300], batchSize: 8, maxLength: 256, seed: 0))
        XCTAssertThrowsError(try BatchPlanner(lengths: [10], batchSize: 0, maxLength: 256, seed: 0))
    }
}

final class Xoshiro256Tests: XCTestCase {
    func testKnownSplitMix64Values() {
        // Reference values of SplitMix64 from seed 0 (Vigna's splitmix64.c).
        var x: UInt64 = 0
        XCTAssertEqual(Xoshiro256.splitMix64(&x), 0xE220_A839_7B1D_CDAF)
        XCTAssertEqual(Xoshiro256.splitMix64(&x), 0x6E78_9E6A_A1B9_65F4)
    }

    func testStateRoundTripContinuesTheStream() throws {
        var generator = Xoshiro256(seed: 5, stream: 3)
        for _ in 0..<10 { _ = generator.next() }
        var restored = try Xoshiro256(state: generator.state)
        XCTAssertEqual((0..<5).map { _ in generator.next() }, (0..<5).map { _ in restored.next() })
        XCTAssertThrowsError(try Xoshiro256(state: [0, 0, 0, 0]))
        var other = Xoshiro256(seed: 5, stream: 4)
        var same = Xoshiro256(seed: 5, stream: 3)
        XCTAssertNotEqual(other.next(), same.next())
    }

    func testGaussianMoments() {
        var generator = Xoshiro256(seed: 11)
        let samples = (0..<200_000).map { _ in generator.nextGaussian() }
        let mean = samples.reduce(0, +) / Double(samples.count)
        let variance = samples.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(samples.count)
        XCTAssertEqual(mean, 0, accuracy: 0.01)
        XCTAssertEqual(variance, 1, accuracy: 0.01)
    }
}

final class PreflightTests: XCTestCase {
    func testLayerParsing() throws {
        XCTAssertEqual(try Preflight.parseLayers("0,2,4"), [0, 2, 4])
        XCTAssertThrowsError(try Preflight.parseLayers("0,x"))
        XCTAssertNoThrow(try Preflight.checkLayers([0, 2, 4], available: 6))
        XCTAssertThrowsError(try Preflight.checkLayers([2, 0], available: 6))
        XCTAssertThrowsError(try Preflight.checkLayers([0, 6], available: 6))
        XCTAssertThrowsError(try Preflight.checkLayers([], available: 6))
    }

    func testSettingsValidation() {
        var settings = TrainerSettings()
        XCTAssertNoThrow(try settings.validate())
        settings.gradientAccumulation = 32
        XCTAssertThrowsError(try settings.validate())
        settings = TrainerSettings()
        settings.warmupRatio = 1
        XCTAssertThrowsError(try settings.validate())
        settings = TrainerSettings()
        settings.emaDecay = 1
        XCTAssertThrowsError(try settings.validate())
    }
}
