import Checkpoint
import Foundation
import TestSupport
import XCTest

final class BertConfigTests: XCTestCase {
    private func temporary(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("\(UUID())-\(name)")
    }

    func testReadsMiniLMConfig() throws {
        let config = try BertConfig.load(from: TestPaths.miniLMDirectory.appendingPathComponent("config.json"))
        XCTAssertEqual(config.hiddenSize, 384)
        XCTAssertEqual(config.numHiddenLayers, 6)
        XCTAssertEqual(config.numAttentionHeads, 12)
        XCTAssertEqual(config.headSize, 32)
        XCTAssertEqual(config.intermediateSize, 1536)
        XCTAssertEqual(config.vocabSize, 30522)
        XCTAssertEqual(config.maxPositionEmbeddings, 512)
        XCTAssertEqual(config.typeVocabSize, 2)
        XCTAssertEqual(config.layerNormEps, 1e-12)
        XCTAssertEqual(config.hiddenDropoutProb, 0.1)
        XCTAssertEqual(config.architecture, .bert)
        XCTAssertNil(config.extra["model_type"], "model_type is modelled, not an extra key")
        XCTAssertEqual(config.extra["architectures"], .array([.string("BertModel")]))
    }

    func testWritesBackUnknownKeys() throws {
        var config = try BertConfig.load(from: TestPaths.fixture("model/tiny_qa_model/config.json"))
        XCTAssertEqual(config.hiddenSize, 32)
        XCTAssertEqual(config.hiddenDropoutProb, 0)
        config.numHiddenLayers = 1
        let url = temporary("config.json")
        defer { try? FileManager.default.removeItem(at: url) }
        try config.write(to: url)
        let reread = try BertConfig.load(from: url)
        XCTAssertEqual(reread, config)
        XCTAssertEqual(reread.extra["tie_word_embeddings"], .bool(true))
        XCTAssertEqual(reread.extra["bos_token_id"], .null)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        XCTAssertEqual(json["num_hidden_layers"] as? Int, 1)
        XCTAssertEqual(json["layer_norm_eps"] as? Double, 1e-12)
    }

    func testConfigErrorsNameFileAndField() throws {
        func check(_ json: String, field: String, line: UInt = #line) throws {
            let url = temporary("config.json")
            defer { try? FileManager.default.removeItem(at: url) }
            try Data(json.utf8).write(to: url)
            XCTAssertThrowsError(try BertConfig.load(from: url), line: line) { error in
                guard case let .invalidConfig(file, badField, _)? = error as? CheckpointError else {
                    return XCTFail("\(error)", line: line)
                }
                XCTAssertEqual(file, url.path, line: line)
                XCTAssertEqual(badField, field, "\(error)", line: line)
            }
        }
        let base = #""num_hidden_layers":2,"num_attention_heads":4,"intermediate_size":64,"vocab_size":10"#
        try check("{\(base)}", field: "hidden_size")
        try check(#"{"hidden_size":"32",\#(base)}"#, field: "hidden_size")
        try check(#"{"hidden_size":30,\#(base)}"#, field: "num_attention_heads")
        try check(#"{"hidden_size":32,"hidden_act":"relu",\#(base)}"#, field: "hidden_act")
        try check(#"{"hidden_size":32,"position_embedding_type":"relative_key",\#(base)}"#, field: "position_embedding_type")
        try check(#"{"hidden_size":0,\#(base)}"#, field: "hidden_size")
        try check("not json", field: "(file)")
    }

    /// DistilBERT's own key names are read into BERT's fields and written back as DistilBERT's.
    func testDistilBERTConfigKeysRoundTrip() throws {
        let url = TestPaths.fixture("model/arch-distilbert/config.json")
        let config = try BertConfig.load(from: url)
        XCTAssertEqual(config.architecture, .distilbert)
        XCTAssertEqual([config.hiddenSize, config.numHiddenLayers, config.numAttentionHeads, config.intermediateSize], [32, 2, 4, 64])
        XCTAssertEqual(config.typeVocabSize, 0)
        XCTAssertNotNil(config.extra["qa_dropout"], "keys BertConfig does not model are kept")
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("distil-config-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: out) }
        try config.write(to: out)
        let written = try JSONDecoder().decode([String: JSONValue].self, from: Data(contentsOf: out))
        let original = try JSONDecoder().decode([String: JSONValue].self, from: Data(contentsOf: url))
        for key in ["dim", "n_layers", "n_heads", "hidden_dim", "activation", "dropout", "attention_dropout", "model_type"] {
            XCTAssertEqual(written[key], original[key], key)
        }
        XCTAssertNil(written["hidden_size"])
        XCTAssertNil(written["type_vocab_size"])
        XCTAssertEqual(try BertConfig.load(from: out), config)
    }

    func testRoBERTaAndELECTRAConfigs() throws {
        let roberta = try BertConfig.load(from: TestPaths.fixture("model/arch-roberta/config.json"))
        XCTAssertEqual(roberta.architecture, .roberta)
        XCTAssertEqual(roberta.maxSequenceLength, 40, "42 positions less the padding offset 2")
        let electra = try BertConfig.load(from: TestPaths.fixture("model/arch-electra/config.json"))
        XCTAssertEqual(electra.embeddingWidth, 16)
        XCTAssertTrue(electra.projectsEmbeddings)
    }

    func testUnsupportedModelTypeIsNamed() throws {
        let data = Data(#"{"model_type": "xlnet", "hidden_size": 8}"#.utf8)
        XCTAssertThrowsError(try BertConfig.parse(data, file: "x/config.json")) { error in
            guard case let .invalidConfig(file, field, reason)? = error as? CheckpointError else { return XCTFail("\(error)") }
            XCTAssertEqual(file, "x/config.json")
            XCTAssertEqual(field, "model_type")
            XCTAssertTrue(reason.contains("xlnet") && reason.contains("roberta"), reason)
        }
    }
}
