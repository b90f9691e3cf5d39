import Serving
import XCTest

/// The token budget of a batch follows `Predictor.scores`'s padding.
final class BatchPackingTests: XCTestCase {
    func testPaddedWidthRoundsUpToEightWithinTheWindow() {
        XCTAssertEqual(BatchPacking.paddedWidth(longest: 1, windowSize: 384), 8)
        XCTAssertEqual(BatchPacking.paddedWidth(longest: 8, windowSize: 384), 8)
        XCTAssertEqual(BatchPacking.paddedWidth(longest: 9, windowSize: 384), 16)
        XCTAssertEqual(BatchPacking.paddedWidth(longest: 383, windowSize: 384), 384)
        XCTAssertEqual(BatchPacking.paddedWidth(longest: 30, windowSize: 30), 30, "never wider than the window")
    }

    func testFitCountsPaddedPositions() {
        // 4 windows padded to 104 = 416 ≤ 420; a fifth makes 520.
        XCTAssertEqual(BatchPacking.fit(lengths: [100, 97, 50, 101, 10], windowSize: 384, budget: 420).count, 4)
        XCTAssertTrue(BatchPacking.fit(lengths: [100, 97, 50, 101, 10], windowSize: 384, budget: 420).full)
        // A long window late in the list widens the whole batch: 3 × 200 = 600 > 500.
        XCTAssertEqual(BatchPacking.fit(lengths: [10, 10, 200], windowSize: 384, budget: 500).count, 2)
        // Ran out before the budget: not full.
        let short = BatchPacking.fit(lengths: [10, 10], windowSize: 384, budget: 500)
        XCTAssertEqual(short.count, 2)
        XCTAssertFalse(short.full)
        // Exactly at the budget counts as full.
        XCTAssertTrue(BatchPacking.fit(lengths: [64, 64], windowSize: 384, budget: 128).full)
    }

    func testAWindowAboveTheBudgetStillGoesAlone() {
        let fit = BatchPacking.fit(lengths: [384, 384], windowSize: 384, budget: 100)
        XCTAssertEqual(fit.count, 1)
        XCTAssertTrue(fit.full)
        XCTAssertEqual(BatchPacking.fit(lengths: [], windowSize: 384, budget: 100).count, 0)
    }
}
