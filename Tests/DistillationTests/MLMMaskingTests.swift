import Checkpoint
import Distillation
import Foundation
import XCTest

/// MLM masking: how many tokens, which ones, what they become, and where their positions point under
/// dynamic padding (D-NET computed them against another width: wrong for every row but the first).
final class MLMMaskingTests: XCTestCase {
    let vocabulary = try! Vocabulary(tokens: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + (0..<995).map { "w\($0)" })

    func sequence(_ length: Int, seed: Int) -> [Int32] {
        [vocabulary.clsId] + (0..<length).map { Int32(5 + ($0 * 37 + seed * 11) % 995) } + [vocabulary.sepId]
    }

    func testCountsSpecialTokensAndReplacementStatistics() {
        let masking = MLMMasking(vocabulary: vocabulary)
        var selected = 0, masked = 0, random = 0, kept = 0
        for seed in 0..<200 {
            let rows = (0..<8).map { sequence(40 + $0 * 10, seed: seed + $0) }
            let batch = masking.mask(rows, paddedLength: 128, seed: UInt64(seed))
            for (row, tokens) in rows.enumerated() {
                let maskable = tokens.count - 2
                let mine = batch.positions.filter { Int($0) / batch.paddedLength == row }
                XCTAssertEqual(mine.count, Int((Double(maskable) * 0.15).rounded()), "row \(row): round(15 %) of its maskable tokens")
            }
            for (position, label) in zip(batch.positions, batch.labels) {
                XCTAssertNotEqual(label, vocabulary.clsId)
                XCTAssertNotEqual(label, vocabulary.sepId)
                let now = batch.inputIds[Int(position)]
                if now == vocabulary.maskId { masked += 1 } else if now == label { kept += 1 } else { random += 1 }
                XCTAssertFalse([vocabulary.clsId, vocabulary.sepId, vocabulary.padId].contains(now), "a special token was drawn as a replacement")
            }
            selected += batch.positions.count
        }
        // Binomial proportions over `selected` draws: 4 standard deviations each.
        for (name, count, p) in [("[MASK]", masked, 0.8), ("random", random, 0.1), ("kept", kept, 0.1)] {
            let sigma = (Double(selected) * p * (1 - p)).squareRoot()
            XCTAssertEqual(Double(count), Double(selected) * p, accuracy: 4 * sigma, "\(name): \(count) of \(selected)")
        }
    }

    func testPositionsPointAtTheirRowUnderPaddingAndShortRowsGetOne() {
        let masking = MLMMasking(vocabulary: vocabulary)
        let rows = [sequence(3, seed: 1), sequence(60, seed: 2), sequence(1, seed: 3), sequence(20, seed: 4)]
        let batch = masking.mask(rows, paddedLength: 72, seed: 99)
        XCTAssertEqual(batch.paddedLength, 72)
        for (row, tokens) in rows.enumerated() {
            let mine = batch.positions.enumerated().filter { Int($0.element) / 72 == row }
            XCTAssertGreaterThanOrEqual(mine.count, 1, "row \(row) must have at least one masked token")
            for (index, position) in mine {
                let t = Int(position) % 72
                XCTAssertLessThan(t, tokens.count, "position inside the row's real tokens")
                XCTAssertEqual(batch.labels[index], tokens[t], "the label is the original token at that position")
            }
            for t in 0..<72 {
                let flat = row * 72 + t
                if t >= tokens.count {
                    XCTAssertEqual(batch.inputIds[flat], vocabulary.padId)
                    XCTAssertEqual(batch.attentionMask[flat], 0)
                } else if !batch.positions.contains(Int32(flat)) {
                    XCTAssertEqual(batch.inputIds[flat], tokens[t], "unselected tokens stay")
                }
            }
        }
        XCTAssertEqual(masking.mask(rows, paddedLength: 72, seed: 99), batch, "a function of the seed")
        XCTAssertNotEqual(masking.mask(rows, paddedLength: 72, seed: 100).positions, batch.positions)
    }
}
