import Foundation
import MRC
import Serving
import TestSupport
import Text
import Training
import XCTest

/// `serve` with a model trained on SQuAD 2.0 (config.json's `version_2_with_negative`): it answers "" with
/// its null score where the null score beats the best span, the decision `predict` makes on SQuAD 2.0 data;
/// the same weights without the mark answer as before; `--null-score-threshold` rules any model.
final class ServingNoAnswerTests: XCTestCase {
    let v2 = TestPaths.fixture("training/tiny_squad_v2.json")

    /// A copy of the tiny model whose config.json says it was trained on unanswerable questions.
    func markedModel(_ root: URL) throws -> URL {
        let directory = root.appendingPathComponent("tiny-v2")
        try FileManager.default.copyItem(at: ServingTestSupport.tinyModel, to: directory)
        try ModelAnswerability.record(in: directory, unanswerableWindows: 1)
        return directory
    }

    /// The tiny model trained by `train` on the tiny v2.0 file (400 steps: it learns which questions have no
    /// answer, and `train` marks it), and a copy of it without the mark.
    func trainedModels(_ root: URL) throws -> (marked: URL, plain: URL) {
        let marked = root.appendingPathComponent("trained-v2"), plain = root.appendingPathComponent("trained-unmarked")
        let train = try CLIProcess.run(["train", "--model", ServingTestSupport.tinyModel.path, "--train", v2.path, "--out", marked.path,
                                        "--max-steps", "400", "--batch-size", "8", "--learning-rate", "3e-3", "--seed", "7",
                                        "--max-seq-len", "32", "--doc-stride", "8", "--max-query-len", "8", "--no-progress"],
                                       logDirectory: root, name: "train")
        XCTAssertEqual(train.status, 0, train.stderr)
        XCTAssertTrue(try ModelAnswerability.isMarked(marked), "train on SQuAD 2.0 data marks the model")
        try FileManager.default.createDirectory(at: plain, withIntermediateDirectories: true)
        for file in ["config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json"] {
            try FileManager.default.copyItem(at: marked.appendingPathComponent(file), to: plain.appendingPathComponent(file))
        }
        try ModelAnswerability.record(in: plain, unanswerableWindows: 0)
        return (marked, plain)
    }

    func testAModelTrainedOnSQuAD2AbstainsAsPredictDoesOnSQuAD2Data() async throws {
        let root = try CLIProcess.temporaryDirectory("serve-squad2")
        defer { try? FileManager.default.removeItem(at: root) }
        let (marked, plain) = try trainedModels(root)
        let trainable = try BertSpanTrainable(directory: marked)
        let tokenizer = try WordPieceTokenizer(vocabFile: marked.appendingPathComponent("vocab.txt"))
        let predicted = try Predictor(model: trainable.model, tokenizer: tokenizer, windowSettings: ServingTestSupport.tinyWindows,
                                      decoderSettings: SpanDecoderSettings(), batchSize: 8)
            .predict(file: v2, into: root.appendingPathComponent("predict"), showProgress: false)
        let questions = zip(predicted.dataset.examples, predicted.predictions).map { ($0.question, $0.context.string, $1) }
        let catalog = try ModelCatalog(specs: [ModelSpec(name: "v2", directories: [marked.path]),
                                               ModelSpec(name: "v1", directories: [plain.path])],
                                       windowSettings: ServingTestSupport.tinyWindows, decoderSettings: SpanDecoderSettings())
        let counts = try await ServingTestSupport.withServer(ServingTestSupport.service(catalog)) { client -> [Int] in
            let listing = try await client.send(.get, "/v1/models")
            let models = try XCTUnwrap(listing.object["models"] as? [[String: Any]], listing.text)
            XCTAssertEqual(number(models[0]["null_score_threshold"]), 0, "the SQuAD 2.0 model abstains at threshold 0")
            XCTAssertNil(models[1]["null_score_threshold"], "a model without the mark never abstains")
            var abstained = 0, answered = 0
            for (question, context, prediction) in questions {
                let reply = try await client.post("/v1/answer", json: ["question": question, "context": context, "model": "v2", "top_k": 2])
                XCTAssertEqual(reply.status, 200, reply.text)
                let answer = try XCTUnwrap(reply.object["answer"] as? String)
                let nullScore = try XCTUnwrap(number(reply.object["null_score"]), reply.text)
                let expected = try XCTUnwrap(prediction.nullScoreDifference)
                // The logits of a window depend on its batch in their last bits (≤ 1e-4 each, four of them here).
                XCTAssertEqual(nullScore, expected, accuracy: 4e-4, question)
                XCTAssertEqual(answer.isEmpty, nullScore > 0, "\(question): the answer follows its null score")
                if abs(expected) > 4e-4 { XCTAssertEqual(answer, prediction.text, "\(question): serve decides as predict on SQuAD 2.0 data") }
                if answer.isEmpty {
                    abstained += 1
                    XCTAssertEqual(reply.object["start"] as? Int, 0)
                    XCTAssertEqual(reply.object["end"] as? Int, 0)
                    let score = try XCTUnwrap(number(reply.object["score"]))
                    XCTAssertTrue((0...1).contains(score))
                    let alternative = try XCTUnwrap((reply.object["alternatives"] as? [[String: Any]])?.first)
                    XCTAssertFalse((alternative["answer"] as? String ?? "").isEmpty, "the best span is the alternative")
                } else {
                    answered += 1
                    XCTAssertEqual(codePointSlice(context, reply.object["start"] as! Int, reply.object["end"] as! Int), answer)
                }
                let plain = try await client.post("/v1/answer", json: ["question": question, "context": context, "model": "v1"])
                XCTAssertNil(plain.object["null_score"], plain.text)
                XCTAssertFalse((plain.object["answer"] as? String ?? "").isEmpty, plain.text)
            }
            return [abstained, answered]
        }
        XCTAssertGreaterThan(counts[0], 0, "some questions get no answer")
        XCTAssertGreaterThan(counts[1], 0, "some get a span")
    }

    func testAnExplicitThresholdRulesEveryModel() async throws {
        let root = try CLIProcess.temporaryDirectory("serve-threshold")
        defer { try? FileManager.default.removeItem(at: root) }
        let marked = try markedModel(root)
        let examples = try MRCReader.read(v2).examples.prefix(8)
        for (threshold, abstains) in [(1e9, false), (-1e9, true)] {
            let catalog = try ModelCatalog(specs: [ModelSpec(name: "v2", directories: [marked.path]),
                                                   ModelSpec(name: "v1", directories: [ServingTestSupport.tinyModel.path])],
                                           windowSettings: ServingTestSupport.tinyWindows,
                                           decoderSettings: SpanDecoderSettings(nullScoreThreshold: threshold))
            try await ServingTestSupport.withServer(ServingTestSupport.service(catalog)) { client in
                for example in examples {
                    for model in ["v2", "v1"] {
                        let reply = try await client.post("/v1/answer", json: ["question": example.question, "context": example.context.string,
                                                                                "model": model])
                        XCTAssertNotNil(number(reply.object["null_score"]), reply.text)
                        XCTAssertEqual((reply.object["answer"] as? String)?.isEmpty, abstains, "\(model) at \(threshold): \(reply.text)")
                    }
                }
            }
        }
    }
}
