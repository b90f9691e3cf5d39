import Foundation
@testable import MRC
import TestSupport
import XCTest

/// `SpanDecoder` against scripts/reference/bert_predictions.py (BERT's write_predictions re-stated),
/// through fixtures/mrc/decoding.json.gz (scripts/fixtures/make_decoding_fixtures.py).
final class SpanDecoderTests: XCTestCase {
    func testDecodingMatchesBERTWritePredictions() throws {
        let fixture = try XCTUnwrap(MRCTestData.fixtureJSON("decoding.json.gz") as? [String: Any])
        let settingsList = try XCTUnwrap(fixture["settings"] as? [[String: Any]]).map { entry in
            SpanDecoderSettings(nBest: entry["n_best"] as! Int, maxAnswerLength: entry["max_answer_length"] as! Int,
                                nullScoreThreshold: entry["null_threshold"] as? Double)
        }
        XCTAssertEqual(settingsList.count, 4)
        var candidatesCompared = 0
        var nullAnswers = 0
        for entry in try XCTUnwrap(fixture["examples"] as? [[String: Any]]) {
            let key = entry["key"] as! String
            let example = MRCExample(id: key, question: "?", context: ScalarText(entry["context"] as! String),
                                     answerTexts: [], answerSpans: [], dataset: "synthetic")
            var windows: [Window] = []
            var scores: [SpanScores] = []
            for (index, window) in (entry["windows"] as! [[String: Any]]).enumerated() {
                let startLogits = (window["start_logits"] as! [Double]).map { Float($0) }
                let length = window["length"] as! Int
                windows.append(Window(
                    exampleIndex: 0, windowIndex: index, inputIds: [Int32](repeating: 0, count: startLogits.count),
                    tokenTypeIds: [Int32](repeating: 0, count: startLogits.count),
                    attentionMask: [Int32](repeating: 1, count: length), length: length,
                    contextStart: window["context_start"] as! Int, contextTokenStart: window["context_token_start"] as! Int,
                    contextOffsets: (window["offsets"] as! [[Int]]).map { $0[0]..<$0[1] },
                    contextIsMaxContext: window["max_context"] as! [Bool], startPosition: 0, endPosition: 0, label: .unlabelled))
                scores.append(SpanScores(startLogits: startLogits, endLogits: (window["end_logits"] as! [Double]).map { Float($0) }))
            }
            for (settings, expected) in zip(settingsList, entry["expected"] as! [[String: Any]]) {
                let place = "\(key) \(settings)"
                let prediction = SpanDecoder(settings: settings).decode(example: example, windows: windows, scores: scores)
                XCTAssertEqual(prediction.key, key)
                XCTAssertEqual(Array(prediction.text.unicodeScalars), Array((expected["text"] as! String).unicodeScalars),
                               "answer, \(place)")
                if prediction.text.isEmpty { nullAnswers += 1 }
                XCTAssertEqual(prediction.nullScoreDifference, expected["null_score_difference"] as? Double, "null odds, \(place)")
                let nBest = expected["nbest"] as! [[String: Any]]
                XCTAssertEqual(prediction.nBest.count, nBest.count, "n-best size, \(place)")
                for (rank, (candidate, reference)) in zip(prediction.nBest, nBest).enumerated() {
                    let where_ = "\(place) rank \(rank)"
                    XCTAssertEqual(Array(candidate.text.unicodeScalars), Array((reference["text"] as! String).unicodeScalars), where_)
                    XCTAssertEqual(candidate.startLogit, reference["start_logit"] as! Double, where_)
                    XCTAssertEqual(candidate.endLogit, reference["end_logit"] as! Double, where_)
                    XCTAssertEqual(candidate.probability, reference["probability"] as! Double, accuracy: 1e-15, where_)
                    XCTAssertEqual(candidate.windowIndex, reference["window"] as? Int, where_)
                    XCTAssertEqual(candidate.startIndex, reference["start"] as? Int, where_)
                    XCTAssertEqual(candidate.endIndex, reference["end"] as? Int, where_)
                    if let characters = candidate.characters {
                        XCTAssertEqual(example.context.slice(characters), candidate.text, where_)
                    }
                    candidatesCompared += 1
                }
            }
        }
        XCTAssertGreaterThan(candidatesCompared, 1000)
        XCTAssertGreaterThan(nullAnswers, 10)
    }

    func testBestIndexesAreStableAndProbabilitiesSumToOne() {
        XCTAssertEqual(SpanDecoder.bestIndexes([1, 3, 3, 2, 3], count: 3), [1, 2, 4])
        XCTAssertEqual(SpanDecoder.bestIndexes([1, 3, 3, 2, 3], count: 10), [1, 2, 4, 3, 0])
        let probabilities = SpanDecoder.probabilities(ofScores: [1000, 999, -5])
        XCTAssertEqual(probabilities.reduce(0, +), 1, accuracy: 1e-15)
        XCTAssertEqual(probabilities[0] / probabilities[1], exp(1.0), accuracy: 1e-12)
        XCTAssertEqual(SpanDecoder.probabilities(ofScores: []), [])
    }

    func testPredictionFilesHoldTextProbabilityAndLogits() throws {
        let candidate = SpanCandidate(text: "Zürich \"x\"", probability: 0.75, startLogit: 1.5, endLogit: -0.25,
                                      characters: 0..<10, windowIndex: 0, startIndex: 5, endIndex: 6)
        let prediction = ExamplePrediction(key: "q1", text: candidate.text, nBest: [candidate], nullScoreDifference: 0.5)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mrc-predictions-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let files = try PredictionWriter.write([prediction], to: directory)
        XCTAssertEqual(files.map(\.lastPathComponent), ["predictions.json", "nbest_predictions.json", "null_odds.json"])
        let answers = try MRCEvaluation.readPredictions(files[0])
        XCTAssertEqual(answers, ["q1": "Zürich \"x\""])
        let nBest = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: files[1])) as? [String: [[String: Any]]])
        XCTAssertEqual(nBest["q1"]?.first?["probability"] as? Double, 0.75)
        XCTAssertEqual(nBest["q1"]?.first?["start_logit"] as? Double, 1.5)
        XCTAssertEqual(nBest["q1"]?.first?["end_logit"] as? Double, -0.25)
        XCTAssertEqual(nBest["q1"]?.first?["text"] as? String, "Zürich \"x\"")
    }
}
