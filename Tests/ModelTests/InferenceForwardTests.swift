import Checkpoint
import Foundation
import Model
import TestSupport
import XCTest

/// `forTraining: false` skips saving the attention probabilities; everything it returns must be
/// bit-for-bit what the training-mode forward (dropout off) returns.
final class InferenceForwardTests: XCTestCase {
    /// The tiny QA fixture batch (end padding) plus a batch with interior padding (a masked key between
    /// real ones), which takes the attention kernel's other softmax path.
    private func tinyQABatches() throws -> [EncoderBatch] {
        let fixture = try SafeTensorsFile(contentsOf: TestPaths.fixture("model/tiny_qa.safetensors"))
        let padded = try fixtureBatch(fixture)
        XCTAssertTrue(padded.attentionMask.contains(0), "the fixture batch must have padding")
        let seqLen = 12
        let ids: [Int32] = (0..<2 * seqLen).map { Int32(5 + $0 % 50) }
        var mask = [Int32](repeating: 1, count: 2 * seqLen)
        mask[3] = 0
        mask[seqLen + 7] = 0
        mask[seqLen + 10] = 0
        mask[seqLen + 11] = 0
        let interior = try EncoderBatch(batch: 2, seqLen: seqLen, inputIds: ids,
                                        tokenTypeIds: (0..<2 * seqLen).map { Int32($0 % seqLen >= 5 ? 1 : 0) },
                                        attentionMask: mask)
        return [padded, interior]
    }

    func testSpanLogitsEqualTrainingModeLogitsExactly() throws {
        let model = try ModelDirectory.load(TestPaths.fixture("model/tiny_qa_model"), spanHead: .require).model
        for batch in try tinyQABatches() {
            let training = try model.forward(batch)
            let trainingHidden = model.lastHiddenState()
            let inference = try model.forward(batch, forTraining: false)
            XCTAssertEqual(inference, training)
            XCTAssertEqual(model.lastHiddenState(), trainingHidden)
        }
    }

    func testMLMLogitsEqualTrainingModeLogitsExactly() throws {
        let model = try ModelDirectory.load(TestPaths.fixture("model/tiny_mlm_model"), spanHead: .omit, mlmHead: .require).model
        let fixture = try SafeTensorsFile(contentsOf: TestPaths.fixture("model/tiny_mlm.safetensors"))
        let batch = try fixtureBatch(fixture)
        let positions = try fixture.int32s("masked_positions")
        let training = Array(try model.forwardMLM(batch, maskedPositions: positions))
        let inference = Array(try model.forwardMLM(batch, maskedPositions: positions, forTraining: false))
        XCTAssertFalse(training.isEmpty)
        XCTAssertEqual(inference, training)
    }

    /// Real sizes (MiniLM-L6, seqLen 128 with padding), where BLAS blocks the attention products.
    func testMiniLMHiddenStatesEqualTrainingModeExactly() throws {
        let model = try ModelDirectory.load(TestPaths.miniLMDirectory, spanHead: .ifPresent).model
        let fixture = try SafeTensorsFile(contentsOf: TestPaths.fixture("model/minilm_hidden.safetensors"))
        let batch = try fixtureBatch(fixture)
        try model.encode(batch)
        let training = model.lastHiddenState()
        try model.encode(batch, forTraining: false)
        let inference = model.lastHiddenState()
        XCTAssertEqual(inference.count, batch.tokenCount * model.config.hiddenSize)
        XCTAssertTrue(inference == training, "max |inference − training| = \(maxAbsDifference(inference, training))")
    }

    /// A model that has only run inference holds two layers' activations used in turn (no probabilities, no
    /// gradient buffers): the 6 layers of MiniLM go through them three times over, and the hidden states must
    /// still be the training-mode forward's, bit for bit; a training forward after it gets the full arena.
    func testTheInferenceArenaOfTwoLayerSlotsGivesTheTrainingModeResults() throws {
        let inferenceOnly = try ModelDirectory.load(TestPaths.miniLMDirectory, spanHead: .ifPresent).model
        let trainingMode = try ModelDirectory.load(TestPaths.miniLMDirectory, spanHead: .ifPresent).model
        XCTAssertEqual(inferenceOnly.config.numHiddenLayers, 6)
        let fixture = try SafeTensorsFile(contentsOf: TestPaths.fixture("model/minilm_hidden.safetensors"))
        let batch = try fixtureBatch(fixture)
        try inferenceOnly.encode(batch, forTraining: false)
        let inference = inferenceOnly.lastHiddenState()
        try trainingMode.encode(batch)
        let training = trainingMode.lastHiddenState()
        XCTAssertTrue(inference == training, "max |inference − training| = \(maxAbsDifference(inference, training))")
        try inferenceOnly.encode(batch)
        XCTAssertTrue(inferenceOnly.lastHiddenState() == training, "a training forward after inference-only ones")

        let tinyInference = try ModelDirectory.load(TestPaths.fixture("model/tiny_qa_model"), spanHead: .require).model
        let tinyTraining = try ModelDirectory.load(TestPaths.fixture("model/tiny_qa_model"), spanHead: .require).model
        for batch in try tinyQABatches() {
            XCTAssertEqual(try tinyInference.forward(batch, forTraining: false), try tinyTraining.forward(batch))
        }
    }

    func testInferenceTakesNoDropoutSeed() throws {
        let model = try ModelDirectory.load(TestPaths.fixture("model/tiny_qa_model"), spanHead: .require).model
        let batch = try tinyQABatches()[0]
        XCTAssertThrowsError(try model.forward(batch, dropoutSeed: 1, forTraining: false)) { error in
            XCTAssertTrue("\(error)".contains("forTraining: false"), "\(error)")
        }
    }

    /// A training step after an inference forward still gets the gradients of a fresh model: the
    /// inference pass leaves nothing behind that the next training forward reads.
    func testTrainingAfterInferenceIsUnaffected() throws {
        let fixture = try SafeTensorsFile(contentsOf: TestPaths.fixture("model/tiny_qa.safetensors"))
        let batch = try fixtureBatch(fixture)
        let starts = try fixture.int32s("start_positions"), ends = try fixture.int32s("end_positions")
        let fresh = try ModelDirectory.load(TestPaths.fixture("model/tiny_qa_model"), spanHead: .require).model
        let reused = try ModelDirectory.load(TestPaths.fixture("model/tiny_qa_model"), spanHead: .require).model
        fresh.zeroGradients()
        reused.zeroGradients()
        _ = try reused.forward(try tinyQABatches()[1], forTraining: false)
        let freshLoss = try fresh.spanLossStep(batch, startPositions: starts, endPositions: ends)
        let reusedLoss = try reused.spanLossStep(batch, startPositions: starts, endPositions: ends)
        XCTAssertEqual(reusedLoss, freshLoss)
        XCTAssertEqual(Array(reused.gradients.buffer), Array(fresh.gradients.buffer))
    }
}
