import Foundation
import MRC
import TestSupport
import Text
import XCTest
@testable import Training

/// The SQuAD 2.0 null-score threshold: the official best_f1 / best_f1_thresh over a model's null odds, and
/// `useBestThreshold`, which applies it. The reference is the definition: the F1 of the answers the decoder
/// gives at every candidate threshold, scored by the official v2.0 semantics (`DatasetEvaluation`, equal to
/// evaluate-v2.0.py in EvaluationTests).
final class NullThresholdTests: XCTestCase {
    let model = TestPaths.fixture("training/tiny_qa_parity")
    let data = TestPaths.fixture("training/tiny_squad_v2.json")

    func predictor(_ directory: URL? = nil) throws -> Predictor {
        let directory = directory ?? model
        let trainable = try BertSpanTrainable(directory: directory)
        let tokenizer = try WordPieceTokenizer(vocabFile: directory.appendingPathComponent("vocab.txt"))
        return try Predictor(model: trainable.model, tokenizer: tokenizer,
                             windowSettings: WindowSettings(maxSeqLen: 32, docStride: 8, maxQueryLen: 8),
                             decoderSettings: SpanDecoderSettings(), batchSize: 8)
    }

    /// The answers at threshold `t`: "" where the null odds exceed it, else the best span.
    func answers(_ predictions: [ExamplePrediction], threshold: Double) -> [String: String] {
        Dictionary(uniqueKeysWithValues: predictions.map { prediction in
            let span = prediction.nBest.first { !$0.text.isEmpty }?.text ?? ""
            return (prediction.key, (prediction.nullScoreDifference ?? -.infinity) > threshold ? "" : span)
        })
    }

    /// The tiny model after 60 steps on the tiny v2.0 file: collapsed, as the teacher — at threshold 0 it
    /// abstains on every question, yet a higher threshold answers some of them right.
    func collapsedModel(_ root: URL) throws -> URL {
        let out = root.appendingPathComponent("collapsed")
        let train = try CLIProcess.run(["train", "--model", model.path, "--train", data.path, "--out", out.path, "--max-steps", "60",
                                        "--batch-size", "8", "--learning-rate", "1e-3", "--seed", "7", "--max-seq-len", "32",
                                        "--doc-stride", "8", "--max-query-len", "8", "--no-progress"], logDirectory: root, name: "train")
        XCTAssertEqual(train.status, 0, train.stderr)
        return out
    }

    func testBestF1IsTheBestOverEveryThresholdAndItsThresholdReproducesIt() throws {
        let root = try CLIProcess.temporaryDirectory("null-threshold")
        defer { try? FileManager.default.removeItem(at: root) }
        let predictor = try predictor(try collapsedModel(root))
        let atZero = try predictor.predict(file: data, into: root.appendingPathComponent("zero"), showProgress: false)
        XCTAssertEqual(atZero.dataset.format, .squad2)
        XCTAssertEqual(atZero.score.nullScoreThreshold, 0, "SQuAD 2.0 data: threshold 0 by default")
        XCTAssertEqual(atZero.score.squad2?.abstained, atZero.dataset.examples.count, "collapsed: no answer at threshold 0")
        let best = try XCTUnwrap(atZero.score.squad2?.best)
        // The official script on the threshold-0 predictions.json could only find "answer nothing"; over the best
        // spans' answers it finds the threshold above 0 that answers some questions right.
        XCTAssertGreaterThan(best.f1, atZero.score.f1)
        XCTAssertGreaterThan(best.f1Threshold, 0)
        // Every threshold that matters: below all odds (abstain everywhere), and each question's odds.
        let odds = atZero.predictions.compactMap(\.nullScoreDifference)
        XCTAssertEqual(odds.count, atZero.dataset.examples.count)
        var bestByDefinition = -Double.infinity
        for threshold in [odds.min()! - 1] + odds {
            let f1 = DatasetEvaluation.evaluate(atZero.dataset, predictions: answers(atZero.predictions, threshold: threshold)).f1
            bestByDefinition = max(bestByDefinition, f1)
        }
        XCTAssertEqual(best.f1, bestByDefinition, accuracy: 1e-9, "best_f1 is the best F1 over thresholds")
        XCTAssertEqual(atZero.score.f1,
                       DatasetEvaluation.evaluate(atZero.dataset, predictions: answers(atZero.predictions, threshold: 0)).f1,
                       accuracy: 1e-12, "eval's F1 is that of the answers at threshold 0")

        // Applied: the same file predicted at the chosen threshold scores best_f1, and says where it came from.
        let choice = try predictor.useBestThreshold(from: data, scratch: root.appendingPathComponent("search"), showProgress: false)
        XCTAssertEqual(choice.bestF1, best.f1, accuracy: 1e-12)
        XCTAssertEqual(choice.f1AtZero, atZero.score.f1, accuracy: 1e-12)
        if !choice.answersNothing { XCTAssertEqual(choice.threshold, best.f1Threshold) }
        let applied = try predictor.predict(file: data, into: root.appendingPathComponent("applied"), showProgress: false)
        XCTAssertEqual(applied.score.f1, best.f1, accuracy: 1e-9, "answering at best_f1_thresh scores best_f1")
        XCTAssertEqual(applied.score.nullScoreThreshold, choice.threshold)
        XCTAssertEqual(applied.score.thresholdSource, data.path)
        XCTAssertEqual(applied.predictions.filter(\.text.isEmpty).count, applied.score.squad2?.abstained)
        let search = try JSONSerialization.jsonObject(with: Data(contentsOf: root.appendingPathComponent("search/eval.json"))) as? [String: Any]
        let entry = try XCTUnwrap((search?["datasets"] as? [String: Any])?["tiny_squad_v2"] as? [String: Any])
        XCTAssertEqual(entry["best_f1_thresh"] as? Double, best.f1Threshold, "the search's eval.json holds the official keys")
    }

    func testAnsweringNothingBestGivesAThresholdBelowEveryOdds() {
        // The official walk reports 0.0 when it never improves on answering nothing: the decoder would then
        // answer every question with odds ≤ 0. Below the smallest odds it abstains on them all.
        let nothing = Predictor.applicableThreshold(bestF1: 50, bestF1Threshold: 0, answerNothingF1: 50, smallestOdds: -3.5)
        XCTAssertTrue(nothing.answersNothing)
        XCTAssertEqual(nothing.threshold, -4.5)
        let found = Predictor.applicableThreshold(bestF1: 61.25, bestF1Threshold: -1.75, answerNothingF1: 50, smallestOdds: -3.5)
        XCTAssertFalse(found.answersNothing)
        XCTAssertEqual(found.threshold, -1.75)
    }

    func testAThresholdFileWithoutUnanswerableQuestionsIsRefusedByName() throws {
        let root = try CLIProcess.temporaryDirectory("null-threshold-v1")
        defer { try? FileManager.default.removeItem(at: root) }
        let v1 = TestPaths.fixture("training/tiny_squad.json")
        XCTAssertThrowsError(try predictor().useBestThreshold(from: v1, scratch: root, showProgress: false)) { error in
            XCTAssertTrue("\(error)".contains("--threshold-data \(v1.path): not SQuAD 2.0 data"), "\(error)")
        }
    }
}
