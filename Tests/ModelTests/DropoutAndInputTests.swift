import Checkpoint
import Foundation
import Model
import TestSupport
import XCTest

final class DropoutAndInputTests: XCTestCase {
    /// The tiny QA model with hidden and attention dropout 0.1 (PyTorch's fixture has dropout 0).
    private func dropoutModel() throws -> (BertModel, SafeTensorsFile, EncoderBatch) {
        let loaded = try ModelDirectory.load(TestPaths.fixture("model/tiny_qa_model"), spanHead: .require).model
        var config = loaded.config
        config.hiddenDropoutProb = 0.1
        config.attentionProbsDropoutProb = 0.1
        let model = BertModel(config: config, heads: loaded.heads)
        model.parameters.copy(from: loaded.parameters)
        let fixture = try SafeTensorsFile(contentsOf: TestPaths.fixture("model/tiny_qa.safetensors"))
        return (model, fixture, try fixtureBatch(fixture))
    }

    func testDropoutIsSeededAndOffAtInference() throws {
        let (model, fixture, batch) = try dropoutModel()
        let inference = try model.forward(batch)
        // Inference ignores the dropout probabilities: the logits are PyTorch's (eval mode).
        XCTAssertLessThanOrEqual(maxAbsDifference(inference.start, try fixture.floats("start_logits")), 1e-5)
        let a = try model.forward(batch, dropoutSeed: 11)
        let b = try model.forward(batch, dropoutSeed: 11)
        let c = try model.forward(batch, dropoutSeed: 12)
        XCTAssertEqual(a, b, "the same seed gives the same masks")
        XCTAssertGreaterThan(maxAbsDifference(a.start, inference.start), 1e-3)
        XCTAssertGreaterThan(maxAbsDifference(a.start, c.start), 1e-3)
    }

    /// With dropout on, the backward (which recomputes the masks from the seed) against central finite
    /// differences of the loss under the same masks, at the largest-gradient element of every tensor.
    /// Float32 loss differences limit this check: |analytic − numeric| ≤ 2e-3 + 2e-2·|analytic|.
    func testDropoutBackwardMatchesFiniteDifferences() throws {
        let (model, fixture, batch) = try dropoutModel()
        let starts = try fixture.int32s("start_positions"), ends = try fixture.int32s("end_positions")
        let seed: UInt64 = 99
        model.zeroGradients()
        _ = try model.spanLossStep(batch, startPositions: starts, endPositions: ends, dropoutSeed: seed)
        func loss() throws -> Double {
            let logits = try model.forward(batch, dropoutSeed: seed)
            return Double(try SpanLoss.compute(logits, attentionMask: batch.attentionMask, startPositions: starts, endPositions: ends).loss)
        }
        var checked = 0
        for entry in model.layout.entries {
            let gradient = model.gradients[entry.name]
            let index = gradient.indices.max { abs(gradient[$0]) < abs(gradient[$1]) }!
            let analytic = gradient[index]
            guard abs(analytic) > 1e-2 else { continue }
            let weight = model.parameters[entry.name]
            let original = weight[index]
            let h: Float = 1e-2
            weight[index] = original + h
            let plus = try loss()
            weight[index] = original - h
            let minus = try loss()
            weight[index] = original
            let numeric = Float((plus - minus) / (2 * Double(h)))
            XCTAssertEqual(numeric, analytic, accuracy: 2e-3 + 2e-2 * abs(analytic), "\(entry.name)[\(index)]")
            checked += 1
        }
        XCTAssertGreaterThan(checked, 25)
    }

    func testBadInputsAreErrors() throws {
        let model = try ModelDirectory.load(TestPaths.fixture("model/tiny_qa_model"), spanHead: .require).model
        XCTAssertThrowsError(try EncoderBatch(batch: 2, seqLen: 3, inputIds: [1, 2, 3]))
        XCTAssertThrowsError(try EncoderBatch(batch: 1, seqLen: 2, inputIds: [1, 2], attentionMask: [1, 2]))
        XCTAssertThrowsError(try model.forward(try EncoderBatch(batch: 1, seqLen: 2, inputIds: [1, 64]))) { error in
            XCTAssertTrue("\(error)".contains("input_ids[1] = 64"), "\(error)")
        }
        XCTAssertThrowsError(try model.forward(try EncoderBatch(batch: 1, seqLen: 2, inputIds: [1, 2], tokenTypeIds: [0, 2])))
        XCTAssertThrowsError(try model.forward(try EncoderBatch(batch: 1, seqLen: 41, inputIds: [Int32](repeating: 5, count: 41)))) { error in
            XCTAssertTrue("\(error)".contains("max_position_embeddings 40"), "\(error)")
        }
        XCTAssertThrowsError(try model.forwardMLM(try EncoderBatch(batch: 1, seqLen: 2, inputIds: [1, 2]), maskedPositions: [0]))
        let batch = try EncoderBatch(batch: 1, seqLen: 3, inputIds: [2, 7, 3], attentionMask: [1, 1, 0])
        let logits = try model.forward(batch)
        XCTAssertThrowsError(try SpanLoss.compute(logits, attentionMask: batch.attentionMask, startPositions: [2], endPositions: [1])) { error in
            XCTAssertTrue("\(error)".contains("gold start position 2 of row 0"), "\(error)")
        }
        // Padding gets no probability and no gradient.
        let result = try SpanLoss.compute(logits, attentionMask: batch.attentionMask, startPositions: [1], endPositions: [1])
        XCTAssertEqual(result.dStartLogits[2], 0)
        XCTAssertEqual(result.dEndLogits[2], 0)
        XCTAssertEqual(result.dStartLogits[0] + result.dStartLogits[1], 0, accuracy: 1e-6)
    }
}
