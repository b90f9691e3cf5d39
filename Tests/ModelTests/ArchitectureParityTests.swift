import Checkpoint
import Foundation
import Kernels
import Model
import TestSupport
import XCTest

/// RoBERTa, DistilBERT and ELECTRA (and BERT beside them) against `transformers`: tiny random
/// `…ForQuestionAnswering` models written by save_pretrained, with a padded batch, the logits, every hidden
/// state and every gradient of the masked span loss (fixtures/model/arch-*/ from
/// scripts/fixtures/make_architecture_fixtures.py). Tolerances are those of TinyQAParityTests: the same
/// float32 arithmetic in another order.
final class ArchitectureParityTests: XCTestCase {
    private func load(_ name: String) throws -> (BertModel, SafeTensorsFile, EncoderBatch) {
        let directory = TestPaths.fixture("model/arch-\(name)")
        let loaded = try ModelDirectory.load(directory, spanHead: .require)
        XCTAssertEqual(loaded.initialised, [])
        XCTAssertEqual(loaded.model.config.architecture.rawValue, name)
        let fixture = try SafeTensorsFile(contentsOf: directory.appendingPathComponent("expected.safetensors"))
        return (loaded.model, fixture, try fixtureBatch(fixture))
    }

    private func checkForward(_ name: String) throws {
        let (model, fixture, batch) = try load(name)
        let logits = try model.forward(batch)
        XCTAssertLessThanOrEqual(maxAbsDifference(logits.start, try fixture.floats("start_logits")), 1e-5, name)
        XCTAssertLessThanOrEqual(maxAbsDifference(logits.end, try fixture.floats("end_logits")), 1e-5, name)
        XCTAssertGreaterThan(try fixture.floats("start_logits").map(abs).max()!, 0.5, "\(name): the logits must not be trivially small")
        for index in 0...model.config.numHiddenLayers {
            let expected = try fixture.floats("hidden.\(index)")
            let ours = Array(UnsafeBufferPointer(start: model.hiddenState(index), count: expected.count))
            XCTAssertLessThanOrEqual(maxAbsDifference(ours, expected), 1e-5, "\(name): hidden state \(index)")
        }
    }

    private func checkGradients(_ name: String) throws {
        let (model, fixture, batch) = try load(name)
        model.zeroGradients()
        let loss = try model.spanLossStep(batch, startPositions: try fixture.int32s("start_positions"),
                                          endPositions: try fixture.int32s("end_positions"))
        let expected = try fixture.floats("masked_loss")[0]
        XCTAssertEqual(loss, expected, accuracy: 1e-5 * abs(expected), name)
        let architecture = model.config.architecture
        try assertGradientsMatch(model, fixture: fixture, naming: { CheckpointNames.fileName($0, architecture) })
    }

    func testBERTLogitsHiddenStatesAndGradients() throws {
        try checkForward("bert")
        try checkGradients("bert")
    }

    /// Positions from pad_token_id + 1, padding at pad_token_id; one token type; LayerNorm eps 1e-5.
    func testRoBERTaLogitsHiddenStatesAndGradients() throws {
        try checkForward("roberta")
        try checkGradients("roberta")
    }

    /// No token types, DistilBERT's config and tensor names.
    func testDistilBERTLogitsHiddenStatesAndGradients() throws {
        try checkForward("distilbert")
        try checkGradients("distilbert")
    }

    /// embedding_size 16 projected to hidden_size 32.
    func testELECTRALogitsHiddenStatesAndGradients() throws {
        try checkForward("electra")
        try checkGradients("electra")
    }
}
