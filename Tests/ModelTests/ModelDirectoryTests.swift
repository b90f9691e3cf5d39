import Checkpoint
import Foundation
import Model
import TestSupport
import XCTest

/// Loading and saving Hugging Face model directories.
final class ModelDirectoryTests: XCTestCase {
    private let tinyQA = TestPaths.fixture("model/tiny_qa_model")
    private var directories: [URL] = []

    override func tearDown() {
        for directory in directories { try? FileManager.default.removeItem(at: directory) }
        directories = []
    }

    /// A copy of the tiny QA model directory whose checkpoint holds `edit`ed tensors: the closure gets
    /// (name, shape, values) of each original tensor and adds what it wants to the writer.
    private func variant(_ edit: (inout SafeTensorsWriter, String, [Int], [Float]) throws -> Void) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("model-\(UUID())")
        directories.append(directory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: tinyQA.appendingPathComponent("config.json"), to: directory.appendingPathComponent("config.json"))
        let original = try SafeTensorsFile(contentsOf: tinyQA.appendingPathComponent("model.safetensors"))
        var writer = SafeTensorsWriter()
        for name in original.names {
            try edit(&writer, name, original.tensors[name]!.shape, try original.floats(name))
        }
        try writer.write(to: directory.appendingPathComponent("model.safetensors"))
        return directory
    }

    private func assertLoadFails(_ directory: URL, _ expected: (String) -> CheckpointError, line: UInt = #line) {
        XCTAssertThrowsError(try ModelDirectory.load(directory, spanHead: .require), line: line) { error in
            let file = directory.appendingPathComponent("model.safetensors").path
            XCTAssertEqual(error as? CheckpointError, expected(file), "\(error)", line: line)
        }
    }

    func testMissingTensorIsNamed() throws {
        let directory = try variant { writer, name, shape, values in
            if name != "bert.encoder.layer.1.output.dense.weight" { try writer.add(name, shape: shape, floats: values) }
        }
        assertLoadFails(directory) { .missingTensor(file: $0, tensor: "bert.encoder.layer.1.output.dense.weight") }
    }

    func testMisShapedTensorIsNamed() throws {
        let directory = try variant { writer, name, shape, values in
            try writer.add(name, shape: name == "bert.embeddings.LayerNorm.weight" ? [16, 2] : shape, floats: values)
        }
        assertLoadFails(directory) { .shapeMismatch(file: $0, tensor: "bert.embeddings.LayerNorm.weight", expected: [32], found: [16, 2]) }
    }

    func testUnexpectedTensorIsNamed() throws {
        let directory = try variant { writer, name, shape, values in
            try writer.add(name, shape: shape, floats: values)
            if name == "qa_outputs.bias" { try writer.add("bert.encoder.layer.2.output.dense.bias", shape: [32], floats: [Float](repeating: 0, count: 32)) }
        }
        assertLoadFails(directory) { .unexpectedTensor(file: $0, tensor: "bert.encoder.layer.2.output.dense.bias") }
    }

    /// Keys without the `bert.` prefix, pooler weights and position_ids (as in all-MiniLM-L6-v2) load to
    /// the same parameters.
    func testAcceptsUnprefixedKeysAndIgnoresPoolerAndPositionIds() throws {
        let directory = try variant { writer, name, shape, values in
            try writer.add(name.hasPrefix("bert.") ? String(name.dropFirst(5)) : name, shape: shape, floats: values)
            if name == "qa_outputs.bias" {
                try writer.add("pooler.dense.weight", shape: [32, 32], floats: [Float](repeating: 1, count: 1024))
                try writer.add("pooler.dense.bias", shape: [32], floats: [Float](repeating: 1, count: 32))
                try writer.add("embeddings.position_ids", shape: [1, 40], int32s: (0..<40).map(Int32.init))
            }
        }
        let renamed = try ModelDirectory.load(directory, spanHead: .require).model
        let original = try ModelDirectory.load(tinyQA, spanHead: .require).model
        XCTAssertEqual(renamed.layout.count, original.layout.count)
        XCTAssertEqual(Array(renamed.parameters.buffer), Array(original.parameters.buffer))
    }

    func testHeadPolicies() throws {
        let withoutHead = try variant { writer, name, shape, values in
            if !name.hasPrefix("qa_outputs.") { try writer.add(name, shape: shape, floats: values) }
        }
        assertLoadFails(withoutHead) { .missingTensor(file: $0, tensor: "span head (qa_outputs.*)") }
        XCTAssertEqual(try ModelDirectory.load(withoutHead, spanHead: .ifPresent).model.heads, [])
        XCTAssertEqual(try ModelDirectory.load(tinyQA, spanHead: .omit).model.heads, [])

        let first = try ModelDirectory.load(withoutHead, spanHead: .initialiseIfMissing(seed: 7))
        let second = try ModelDirectory.load(withoutHead, spanHead: .initialiseIfMissing(seed: 7))
        let other = try ModelDirectory.load(withoutHead, spanHead: .initialiseIfMissing(seed: 8))
        XCTAssertEqual(first.initialised, ["qa_outputs.weight", "qa_outputs.bias"])
        let weights = first.model.parameters.values("qa_outputs.weight")
        XCTAssertEqual(weights, second.model.parameters.values("qa_outputs.weight"), "same seed, same head")
        XCTAssertNotEqual(weights, other.model.parameters.values("qa_outputs.weight"))
        XCTAssertEqual(first.model.parameters.values("qa_outputs.bias"), [0, 0])
        let std = (weights.map { $0 * $0 }.reduce(0, +) / Float(weights.count)).squareRoot()
        XCTAssertEqual(std, 0.02, accuracy: 0.006, "N(0, 0.02²) over 64 samples")
        // A present head is loaded, not initialised.
        XCTAssertEqual(try ModelDirectory.load(tinyQA, spanHead: .initialiseIfMissing(seed: 7)).initialised, [])
        // The MLM head of a new model is initialised the Hugging Face way.
        let mlm = try ModelDirectory.load(tinyQA, spanHead: .require, mlmHead: .initialiseIfMissing(seed: 1))
        XCTAssertEqual(mlm.model.parameters.values("cls.predictions.transform.LayerNorm.weight"), [Float](repeating: 1, count: 32))
        XCTAssertEqual(mlm.initialised.count, 5)
    }

    /// Flat buffers (e.g. optimizer moments) go to a training checkpoint under a prefix and come back.
    func testParameterBufferRoundTripsUnderAPrefix() throws {
        let model = try ModelDirectory.load(tinyQA, spanHead: .require).model
        var writer = SafeTensorsWriter()
        try model.parameters.add(to: &writer, prefix: "ema.")
        let file = try SafeTensorsFile(data: writer.serialized(), source: "checkpoint")
        let copy = ParameterBuffer(layout: model.layout)
        try copy.load(from: file, prefix: "ema.")
        XCTAssertEqual(Array(copy.buffer), Array(model.parameters.buffer))
        XCTAssertThrowsError(try copy.load(from: file, prefix: "adam.")) { error in
            XCTAssertEqual(error as? CheckpointError, .missingTensor(file: "checkpoint", tensor: "adam.bert.embeddings.word_embeddings.weight"))
        }
    }

    func testSaveThenLoadRoundTrips() throws {
        let loaded = try ModelDirectory.load(tinyQA, spanHead: .require, mlmHead: .initialiseIfMissing(seed: 3))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("saved-\(UUID())")
        directories.append(directory)
        try ModelDirectory.save(loaded.model, vocabulary: loaded.vocabulary!, doLowerCase: false, to: directory)
        for file in ["config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: directory.appendingPathComponent(file).path), file)
        }
        let reloaded = try ModelDirectory.load(directory, spanHead: .require, mlmHead: .require)
        XCTAssertEqual(reloaded.model.config.hiddenSize, 32)
        XCTAssertEqual(reloaded.model.config.extra["architectures"], .array([.string("BertForQuestionAnswering")]))
        XCTAssertEqual(Array(reloaded.model.parameters.buffer), Array(loaded.model.parameters.buffer))
        XCTAssertEqual(reloaded.vocabulary, loaded.vocabulary)
        XCTAssertEqual(reloaded.doLowerCase, false)
        let file = try SafeTensorsFile(contentsOf: directory.appendingPathComponent("model.safetensors"))
        XCTAssertEqual(file.metadata, ["format": "pt"])
        XCTAssertNotNil(file.tensors["bert.encoder.layer.0.attention.self.query.weight"])
    }
}
