import Serving
import XCTest

/// The token budget of a batch follows `Predictor.scores`'s padding; batches hold windows of
/// similar lengths and always the oldest one.
final class BatchPackingTests: XCTestCase {
    func testPaddedWidthRoundsUpToEightWithinTheWindow() {
        XCTAssertEqual(BatchPacking.paddedWidth(longest: 1, windowSize: 384), 8)
        XCTAssertEqual(BatchPacking.paddedWidth(longest: 8, windowSize: 384), 8)
        XCTAssertEqual(BatchPacking.paddedWidth(longest: 9, windowSize: 384), 16)
        XCTAssertEqual(BatchPacking.paddedWidth(longest: 383, windowSize: 384), 384)
        XCTAssertEqual(BatchPacking.paddedWidth(longest: 30, windowSize: 30), 30, "never wider than the window")
    }

    func testFillsCountsPaddedPositions() {
        // Each rounded up to 8: 104 + 104 + 56 + 104 = 368.
        XCTAssertTrue(BatchPacking.fills(lengths: [100, 97, 50, 101], windowSize: 384, budget: 368))
        XCTAssertFalse(BatchPacking.fills(lengths: [100, 97, 50, 101], windowSize: 384, budget: 369))
        XCTAssertFalse(BatchPacking.fills(lengths: [], windowSize: 384, budget: 1))
    }

    /// The cost of a batch as `Predictor.scores` pads it.
    func cost(_ lengths: [Int], _ chosen: [Int]) -> Int {
        chosen.count * BatchPacking.paddedWidth(longest: chosen.map { lengths[$0] }.max()!, windowSize: 384)
    }

    func testTheBatchHoldsTheOldestAndWindowsOfSimilarLength() {
        let lengths = [200, 380, 60, 190, 64, 210, 370, 58, 205]
        let chosen = BatchPacking.choose(lengths: lengths, head: 0, windowSize: 384, budget: 900)
        XCTAssertEqual(Set(chosen), [0, 3, 8, 5], "the four windows of about 200 tokens: 4 × 216 = 864")
        // The short ones go together, not padded to 200.
        XCTAssertEqual(Set(BatchPacking.choose(lengths: lengths, head: 2, windowSize: 384, budget: 900)), [2, 4, 7])
        XCTAssertEqual(Set(BatchPacking.choose(lengths: lengths, head: 1, windowSize: 384, budget: 900)), [1, 6])
        // A long window is not padded onto twenty short ones: 20 × 200 would cost 4,000 positions for 1,400 tokens.
        let mixed = [200] + Array(repeating: 60, count: 20)
        XCTAssertEqual(BatchPacking.choose(lengths: mixed, head: 0, windowSize: 384, budget: 4096), [0])
        XCTAssertEqual(BatchPacking.choose(lengths: mixed, head: 5, windowSize: 384, budget: 4096).count, 20)
    }

    /// Brute force over every split of the length order: the chosen batch belongs to a cheapest one.
    func testTheChoiceIsPartOfACheapestSplit() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let lengths = (0..<Int.random(in: 1...10, using: &generator)).map { _ in Int.random(in: 5...384, using: &generator) }
            let head = Int.random(in: 0..<lengths.count, using: &generator)
            let budget = Int.random(in: 100...2048, using: &generator)
            let chosen = BatchPacking.choose(lengths: lengths, head: head, windowSize: 384, budget: budget)
            XCTAssertTrue(chosen.contains(head))
            if chosen.count > 1 { XCTAssertLessThanOrEqual(cost(lengths, chosen), budget, "\(lengths) head \(head) budget \(budget)") }
            let order = lengths.indices.sorted { (lengths[$0], $0) < (lengths[$1], $1) }
            func splitCost(_ groups: [[Int]]) -> Int? {
                var total = 0
                for group in groups {
                    let value = cost(lengths, group)
                    if group.count > 1 && value > budget { return nil }
                    total += value + BatchPacking.forwardOverhead
                }
                return total
            }
            var cheapest = Int.max
            for mask in 0..<(1 << (order.count - 1)) {  // bit i: a batch ends after position i
                var groups: [[Int]] = [[]]
                for (i, index) in order.enumerated() {
                    groups[groups.count - 1].append(index)
                    if i < order.count - 1 && mask & (1 << i) != 0 { groups.append([]) }
                }
                if let total = splitCost(groups) { cheapest = min(cheapest, total) }
            }
            // The rest of the windows, split the cheapest way, plus the chosen batch, cost no more.
            let rest = order.filter { !chosen.contains($0) }
            var restCheapest = Int.max
            for mask in 0..<(1 << max(0, rest.count - 1)) where !rest.isEmpty {
                var groups: [[Int]] = [[]]
                for (i, index) in rest.enumerated() {
                    groups[groups.count - 1].append(index)
                    if i < rest.count - 1 && mask & (1 << i) != 0 { groups.append([]) }
                }
                if let total = splitCost(groups) { restCheapest = min(restCheapest, total) }
            }
            let chosenCost = cost(lengths, chosen) + BatchPacking.forwardOverhead + (rest.isEmpty ? 0 : restCheapest)
            XCTAssertEqual(chosenCost, cheapest, "\(lengths) head \(head) budget \(budget): chosen \(chosen)")
        }
    }

    func testAWindowAboveTheBudgetGoesAlone() {
        XCTAssertEqual(BatchPacking.choose(lengths: [384, 384], head: 1, windowSize: 384, budget: 100), [1])
    }
}
