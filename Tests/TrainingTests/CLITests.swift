import Foundation
import TestSupport
import XCTest
@testable import Training

/// The `train` and `predict` subcommands end to end on the tiny model, and their refusals.
final class CLITests: XCTestCase {
    let tinyModel = TestPaths.fixture("training/tiny_qa_parity")
    let tinySquad = TestPaths.fixture("training/tiny_squad.json")
    let windowArguments = ["--max-seq-len", "32", "--doc-stride", "8", "--max-query-len", "8"]

    func testRefusesBadArgumentsBeforeAnyWork() throws {
        let root = try CLIProcess.temporaryDirectory("refusals")
        defer { try? FileManager.default.removeItem(at: root) }
        let noVocab = root.appendingPathComponent("no-vocab")
        try FileManager.default.createDirectory(at: noVocab, withIntermediateDirectories: true)
        for file in ["config.json", "model.safetensors"] {
            try FileManager.default.copyItem(at: tinyModel.appendingPathComponent(file), to: noVocab.appendingPathComponent(file))
        }
        let out = root.appendingPathComponent("out").path
        let cases: [(name: String, arguments: [String], message: String)] = [
            ("missing-train", ["--model", tinyModel.path, "--train", root.appendingPathComponent("nope.json").path, "--out", out]
                + windowArguments, "nope.json: no such file"),
            ("missing-dev", ["--model", tinyModel.path, "--train", tinySquad.path, "--dev", "/nonexistent/dev.json", "--out", out]
                + windowArguments, "--dev /nonexistent/dev.json: no such file"),
            ("no-vocab", ["--model", noVocab.path, "--train", tinySquad.path, "--out", out] + windowArguments, "has no vocab.txt"),
            ("position-table", ["--model", tinyModel.path, "--train", tinySquad.path, "--out", out, "--max-seq-len", "128"],
             "--max-seq-len 128 exceeds the model's position table (max_position_embeddings = 64"),
            ("layers", ["--model", tinyModel.path, "--train", tinySquad.path, "--out", out, "--layers", "0,5"] + windowArguments,
             "layer 5 does not exist"),
            ("batch", ["--model", tinyModel.path, "--train", tinySquad.path, "--out", out, "--batch-size", "0"] + windowArguments,
             "--batch-size must be positive"),
        ]
        for (name, arguments, message) in cases {
            let started = Date()
            let result = try CLIProcess.run(["train"] + arguments, logDirectory: root, name: name)
            XCTAssertNotEqual(result.status, 0, name)
            XCTAssertTrue(result.stderr.contains(message), "\(name): \(result.stderr)")
            XCTAssertLessThan(Date().timeIntervalSince(started), 20, "\(name) must be refused before any work")
            XCTAssertFalse(FileManager.default.fileExists(atPath: out), "\(name) created the output directory")
        }
        let predict = try CLIProcess.run(["predict", "--model", noVocab.path, "--data", tinySquad.path, "--out", out],
                                         logDirectory: root, name: "predict-no-vocab")
        XCTAssertNotEqual(predict.status, 0)
        XCTAssertTrue(predict.stderr.contains("has no vocab.txt"), predict.stderr)
    }

    func testTrainThenPredictWritesPredictionsAndTheSameScores() throws {
        let root = try CLIProcess.temporaryDirectory("train-predict")
        defer { try? FileManager.default.removeItem(at: root) }
        let model = root.appendingPathComponent("model")
        let train = try CLIProcess.run(["train", "--model", tinyModel.path, "--train", tinySquad.path, "--dev", tinySquad.path,
                                        "--out", model.path, "--max-steps", "10", "--batch-size", "8", "--learning-rate", "1e-3",
                                        "--ema-decay", "0.9", "--no-progress"] + windowArguments,
                                       logDirectory: root, name: "train")
        XCTAssertEqual(train.status, 0, train.stderr)
        for file in ["config.json", "model.safetensors", "ema.safetensors", "vocab.txt", "metrics.jsonl",
                     "checkpoint-10/optimizer.safetensors", "dev/predictions.json", "dev/nbest_predictions.json", "dev/eval.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: model.appendingPathComponent(file).path), "missing \(file)")
        }
        XCTAssertEqual(try MetricsLog.read(model.appendingPathComponent("metrics.jsonl")).map(\.step), Array(1...10))

        let predictions = root.appendingPathComponent("predictions")
        let predict = try CLIProcess.run(["predict", "--model", model.path, "--data", tinySquad.path, "--out", predictions.path]
                                         + windowArguments, logDirectory: root, name: "predict")
        XCTAssertEqual(predict.status, 0, predict.stderr)
        // Same weights, same windows, same decoder: the same answers as the evaluation at the end of training.
        let trained = try JSONSerialization.jsonObject(with: Data(contentsOf: model.appendingPathComponent("dev/predictions.json"))) as? [String: String]
        let predicted = try JSONSerialization.jsonObject(with: Data(contentsOf: predictions.appendingPathComponent("predictions.json"))) as? [String: String]
        XCTAssertEqual(trained?.count, 72)
        XCTAssertEqual(trained, predicted)
        let nbest = try JSONSerialization.jsonObject(with: Data(contentsOf: predictions.appendingPathComponent("nbest_predictions.json"))) as? [String: [[String: Any]]]
        for (key, list) in nbest ?? [:] {
            XCTAssertTrue((1...20).contains(list.count), key)
            let total = list.compactMap { $0["probability"] as? Double }.reduce(0, +)
            XCTAssertEqual(total, 1, accuracy: 1e-6, key)
        }
        let ema = try CLIProcess.run(["predict", "--model", model.path, "--ema", "--data", tinySquad.path, "--out",
                                      root.appendingPathComponent("ema").path] + windowArguments, logDirectory: root, name: "ema")
        XCTAssertEqual(ema.status, 0, ema.stderr)
        XCTAssertTrue(ema.stdout.contains("tiny_squad"), ema.stdout)
    }
}
