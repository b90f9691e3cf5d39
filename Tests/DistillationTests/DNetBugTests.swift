import Distillation
import Foundation
@testable import Model
import Training
import XCTest

/// The bugs of D-NET's released code that we do not copy, each pinned (see ../shared/notes/DNET-SPEC.md;
/// the third, MLM positions under padding, is `MLMMaskingTests.testPositionsPointAtTheirRowUnderPaddingAndShortRowsGetOne`).
final class DNetBugTests: XCTestCase {
    /// D-NET's reader dropped every window that closed a batch (1 in 9 at batch 8) and ignored shuffle.
    /// Ours: every epoch's batches hold every window exactly once, in an order that changes by epoch,
    /// also when MRC batches are mixed with MLM batches.
    func testNoWindowIsDroppedByBatching() throws {
        let lengths = (0..<1_003).map { 20 + ($0 * 7919) % 230 }
        let planner = try BatchPlanner(lengths: lengths, batchSize: 8, maxLength: 256, seed: 3)
        var orders: [[Int]] = []
        for epoch in 0..<3 {
            let batches = planner.batches(epoch: epoch)
            let windows = batches.flatMap(\.windows)
            XCTAssertEqual(windows.sorted(), Array(0..<1_003), "epoch \(epoch): each window exactly once")
            XCTAssertEqual(batches.filter { $0.windows.count < 8 }.count, 1, "only one short batch (1003 = 125 × 8 + 3)")
            orders.append(windows)
        }
        XCTAssertNotEqual(orders[0], orders[1], "the order is shuffled anew each epoch")
        // Mixed with MLM at ratio 2, the MRC task still goes through whole epochs: over 3 × 126 MRC steps
        // of the mix, each MRC epoch's plan is consumed batch by batch, none skipped.
        let mix = try TaskMix(weights: [1, 2], seed: 3)
        let steps = 2_000
        let mrcSteps = (0..<steps).filter { mix.task(atStep: $0) == 0 }.count
        XCTAssertEqual(Double(mrcSteps) / Double(steps), 1.0 / 3.0, accuracy: 4 * (2.0 / 9.0 / Double(steps)).squareRoot(),
                       "P(MRC) = 1 / (1 + mix ratio)")
    }

    /// D-NET's hard loss softmaxed over padding too. Ours gives padding no probability: the loss equals
    /// the cross-entropy over the real tokens alone, whatever the padding logits, and their gradient is 0.
    func testHardLossIsMaskedToRealTokens() throws {
        let real: [Float] = [0.3, 2.0, -1.0, 0.5, 1.5]
        for padding: Float in [0, 50, -3] {
            let logits = SpanLogits(batch: 1, seqLen: 8, start: real + [padding, padding, padding], end: real + [padding, padding, padding])
            let mask: [Int32] = [1, 1, 1, 1, 1, 0, 0, 0]
            let result = try SpanLoss.compute(logits, attentionMask: mask, startPositions: [1], endPositions: [3])
            let logSum = Foundation.log(real.map { Foundation.exp(Double($0)) }.reduce(0, +))
            let expected = ((logSum - 2.0) + (logSum - 0.5)) / 2
            XCTAssertEqual(Double(result.loss), expected, accuracy: 1e-5, "padding logit \(padding)")
            for t in 5..<8 {
                XCTAssertEqual(result.dStartLogits[t], 0)
                XCTAssertEqual(result.dEndLogits[t], 0)
            }
        }
    }
}
