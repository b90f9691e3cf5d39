import Foundation
import TestSupport
import XCTest
@testable import Training

/// SQuAD 2.0 through the CLI on the tiny model and the tiny v2.0 file: `predict` and `score` with
/// `--null-score-threshold best --threshold-data FILE`, their refusals, and `train` recording in config.json
/// that a model learnt to abstain.
final class SQuAD2CLITests: XCTestCase {
    let model = TestPaths.fixture("training/tiny_qa_parity").path
    let v2 = TestPaths.fixture("training/tiny_squad_v2.json").path
    let v1 = TestPaths.fixture("training/tiny_squad.json").path
    let windowArguments = ["--max-seq-len", "32", "--doc-stride", "8", "--max-query-len", "8"]

    func json(_ url: URL) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any], url.path)
    }

    func dataset(_ eval: [String: Any]) throws -> [String: Any] {
        try XCTUnwrap((eval["datasets"] as? [String: Any])?["tiny_squad_v2"] as? [String: Any])
    }

    func testPredictAppliesTheBestThresholdOfTheThresholdFileAndSaysWhich() throws {
        let root = try CLIProcess.temporaryDirectory("squad2-predict")
        defer { try? FileManager.default.removeItem(at: root) }
        let out = root.appendingPathComponent("best")
        let best = try CLIProcess.run(["predict", "--model", model, "--data", v2, "--out", out.path, "--null-score-threshold", "best",
                                       "--threshold-data", v2] + windowArguments, logDirectory: root, name: "best")
        XCTAssertEqual(best.status, 0, best.stderr)
        let search = try dataset(json(out.appendingPathComponent("threshold-data/eval.json")))
        let threshold = try XCTUnwrap(search["best_f1_thresh"] as? Double)
        let bestF1 = try XCTUnwrap(search["best_f1"] as? Double)
        let applied = try dataset(json(out.appendingPathComponent("eval.json")))
        XCTAssertEqual(applied["threshold_from"] as? String, v2)
        let used = try XCTUnwrap(applied["null_score_threshold"] as? Double)
        XCTAssertTrue(best.stderr.contains("best_f1_thresh of \(v2)"), best.stderr)
        XCTAssertTrue(best.stderr.contains(String(format: "null-score threshold %.6g", used)), best.stderr)
        if !best.stderr.contains("answering nothing is best") { XCTAssertEqual(used, threshold) }
        // The official best_f1 is the F1 of the answers at best_f1_thresh: predicting the same file at it scores it.
        XCTAssertEqual(try XCTUnwrap(applied["f1"] as? Double), bestF1, accuracy: 1e-9)

        // The same predictions as the threshold given as a number.
        let fixed = root.appendingPathComponent("fixed")
        // "=": a negative number would read as an option.
        let number = try CLIProcess.run(["predict", "--model", model, "--data", v2, "--out", fixed.path,
                                         "--null-score-threshold=" + String(format: "%.17g", used)] + windowArguments,
                                        logDirectory: root, name: "fixed")
        XCTAssertEqual(number.status, 0, number.stderr)
        for file in ["predictions.json", "null_odds.json"] {
            XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent(file)), try Data(contentsOf: fixed.appendingPathComponent(file)), file)
        }
        XCTAssertNil(try dataset(json(fixed.appendingPathComponent("eval.json")))["threshold_from"])
    }

    func testScoreRowsCarryTheNoAnswerColumns() throws {
        let root = try CLIProcess.temporaryDirectory("squad2-score")
        defer { try? FileManager.default.removeItem(at: root) }
        let rows = root.appendingPathComponent("rows.jsonl"), out = root.appendingPathComponent("eval")
        let score = try CLIProcess.run(["score", "--name", "tiny", "--kind", "teacher", "--model", model, "--data", v2,
                                        "--out", out.path, "--rows", rows.path, "--null-score-threshold", "best",
                                        "--threshold-data", v2] + windowArguments, logDirectory: root, name: "score")
        XCTAssertEqual(score.status, 0, score.stderr)
        let row = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: rows)) as? [String: Any])
        let predictions = try XCTUnwrap(try json(out.appendingPathComponent("predictions.json")) as? [String: String])
        let eval = try dataset(json(out.appendingPathComponent("threshold-data/eval.json")))
        XCTAssertEqual(predictions.count, 42)
        // The NoAns share is the percentage of questions answered "": counted here from predictions.json.
        XCTAssertEqual(try XCTUnwrap(row["no_ans_share"] as? Double), 100 * Double(predictions.values.filter(\.isEmpty).count) / 42,
                       accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap(row["best_f1"] as? Double), try XCTUnwrap(eval["best_f1"] as? Double), accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap(row["squad_f1"] as? Double), try XCTUnwrap(eval["best_f1"] as? Double), accuracy: 1e-9)
        XCTAssertNotNil(row["has_ans_f1"] as? Double)
        XCTAssertNotNil(row["no_ans_f1"] as? Double)
        XCTAssertNotNil(row["null_score_threshold"] as? Double)
        XCTAssertTrue(score.stdout.contains("tiny: HasAns F1"), score.stdout)
        let report = try CLIProcess.run(["report", "--rows", rows.path, "--out", root.appendingPathComponent("report").path],
                                        logDirectory: root, name: "report")
        XCTAssertEqual(report.status, 0, report.stderr)
        XCTAssertTrue(report.stdout.contains("| name | kind | dev EM | dev F1 | HasAns F1 | NoAns F1 | NoAns share % |"), report.stdout)
    }

    func testBadThresholdArgumentsAreRefusedNamingTheOption() throws {
        let root = try CLIProcess.temporaryDirectory("squad2-refusals")
        defer { try? FileManager.default.removeItem(at: root) }
        let out = root.appendingPathComponent("out").path
        let cases: [(name: String, arguments: [String], message: String)] = [
            ("no-file", ["predict", "--model", model, "--data", v2, "--out", out, "--null-score-threshold", "best"],
             "--null-score-threshold best needs --threshold-data FILE"),
            ("no-best", ["predict", "--model", model, "--data", v2, "--out", out, "--threshold-data", v2],
             "--threshold-data \(v2) is used with --null-score-threshold best only"),
            ("missing", ["predict", "--model", model, "--data", v2, "--out", out, "--null-score-threshold", "best",
                         "--threshold-data", root.appendingPathComponent("nope.json").path], "nope.json: no such file"),
            ("word", ["predict", "--model", model, "--data", v2, "--out", out, "--null-score-threshold", "high"],
             "--null-score-threshold"),
            ("train", ["train", "--model", model, "--train", v2, "--out", out, "--null-score-threshold", "best"],
             "--null-score-threshold best is for predict and score"),
            ("v1", ["predict", "--model", model, "--data", v2, "--out", out, "--null-score-threshold", "best", "--threshold-data", v1],
             "--threshold-data \(v1): not SQuAD 2.0 data"),
        ]
        for (name, arguments, message) in cases {
            let result = try CLIProcess.run(arguments + windowArguments, logDirectory: root, name: name)
            XCTAssertNotEqual(result.status, 0, name)
            XCTAssertTrue(result.stderr.contains(message), "\(name): \(result.stderr)")
        }
    }

    func testTrainingOnUnanswerableQuestionsIsRecordedInConfigJSON() throws {
        let root = try CLIProcess.temporaryDirectory("squad2-train")
        defer { try? FileManager.default.removeItem(at: root) }
        func train(_ from: String, _ data: String, _ name: String) throws -> URL {
            let out = root.appendingPathComponent(name)
            let result = try CLIProcess.run(["train", "--model", from, "--train", data, "--out", out.path, "--max-steps", "2",
                                             "--batch-size", "8", "--no-progress"] + windowArguments, logDirectory: root, name: name)
            XCTAssertEqual(result.status, 0, result.stderr)
            return out
        }
        let squad2 = try train(model, v2, "v2")
        let config = try json(squad2.appendingPathComponent("config.json"))
        XCTAssertEqual(config[ModelAnswerability.configKey] as? Bool, true)
        XCTAssertEqual(config["architectures"] as? [String], ["BertForQuestionAnswering"], "the Hugging Face keys stay")
        XCTAssertTrue(try ModelAnswerability.isMarked(squad2))
        // Fine-tuned on SQuAD 1.1 from the SQuAD 2.0 model: the inherited mark goes.
        let squad1 = try train(squad2.path, v1, "v1-from-v2")
        XCTAssertNil(try json(squad1.appendingPathComponent("config.json"))[ModelAnswerability.configKey])
        XCTAssertFalse(try ModelAnswerability.isMarked(squad1))
        XCTAssertFalse(try ModelAnswerability.isMarked(TestPaths.fixture("training/tiny_qa_parity")))
    }
}
