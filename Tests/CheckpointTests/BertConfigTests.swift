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
        XCTAssertEqual(config.extra["model_type"], .string("bert"))
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
}
