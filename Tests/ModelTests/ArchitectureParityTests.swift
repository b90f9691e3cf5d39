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

/// A saved model is the architecture's own checkpoint again: the same tensor names and shapes as
/// `transformers` wrote, config.json in the architecture's keys, the tokenizer's files, and the same logits
/// when loaded back.
final class ArchitectureDirectoryTests: XCTestCase {
    private func roundTrip(_ name: String) throws {
        let source = TestPaths.fixture("model/arch-\(name)")
        let loaded = try ModelDirectory.load(source, spanHead: .require)
        let tokenizer = try XCTUnwrap(loaded.tokenizer, "\(name): the fixture has its tokenizer's files")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("arch-\(name)-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try ModelDirectory.save(loaded.model, tokenizer: tokenizer, to: directory)

        let theirs = try SafeTensorsFile(contentsOf: source.appendingPathComponent("model.safetensors"))
        let ours = try SafeTensorsFile(contentsOf: directory.appendingPathComponent("model.safetensors"))
        XCTAssertEqual(Set(ours.tensors.keys), Set(theirs.tensors.keys), "\(name): tensor names")
        for key in theirs.tensors.keys.sorted() {
            XCTAssertEqual(try ours.info(key).shape, try theirs.info(key).shape, "\(name): \(key)")
            XCTAssertEqual(try ours.floats(key), try theirs.floats(key), "\(name): \(key)")
        }
        let config = try JSONDecoder().decode([String: JSONValue].self, from: Data(contentsOf: directory.appendingPathComponent("config.json")))
        let original = try JSONDecoder().decode([String: JSONValue].self, from: Data(contentsOf: source.appendingPathComponent("config.json")))
        for (key, value) in original where !["dtype", "transformers_version", "torch_dtype"].contains(key) {
            XCTAssertEqual(config[key].map(Self.number), Self.number(value), "\(name): config.json \(key)")
        }
        let reloaded = try ModelDirectory.load(directory, spanHead: .require)
        XCTAssertEqual(reloaded.tokenizer, tokenizer, "\(name): tokenizer files")
        XCTAssertEqual(reloaded.model.config.architecture, loaded.model.config.architecture)
        let fixture = try SafeTensorsFile(contentsOf: source.appendingPathComponent("expected.safetensors"))
        let batch = try fixtureBatch(fixture)
        XCTAssertEqual(try reloaded.model.forward(batch).start, try loaded.model.forward(batch).start, name)
    }

    /// Integers and floats compare as numbers (0 and 0.0 are one value).
    private static func number(_ value: JSONValue) -> JSONValue {
        if case let .int(i) = value { return .double(Double(i)) }
        return value
    }

    func testBERTRoundTrip() throws { try roundTrip("bert") }
    func testRoBERTaRoundTrip() throws { try roundTrip("roberta") }
    func testDistilBERTRoundTrip() throws { try roundTrip("distilbert") }
    func testELECTRARoundTrip() throws { try roundTrip("electra") }
}
