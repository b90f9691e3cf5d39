import Foundation
@testable import MRC
import TestSupport
import XCTest

/// Evaluation against scripts/reference/squad_eval.py (the official scripts re-stated), through the
/// committed numbers in fixtures/mrc/eval/ (scripts/fixtures/make_eval_fixtures.py), on real data.
final class EvaluationTests: XCTestCase {
    static let tolerance = 1e-9

    func testNormalizationAndPerAnswerMetricsMatchPython() throws {
        let cases = try XCTUnwrap(MRCTestData.fixtureJSON("eval/normalization.json") as? [[String: Any]])
        XCTAssertGreaterThan(cases.count, 30)
        for entry in cases {
            let prediction = entry["prediction"] as! String
            let groundTruth = entry["ground_truth"] as! String
            let place = "\(prediction.debugDescription) vs \(groundTruth.debugDescription)"
            // Scalar-wise equality: Swift's String == would call "é" and "e\u{301}" equal, Python does not.
            XCTAssertEqual(Array(AnswerNormalization.normalize(prediction).unicodeScalars),
                           Array((entry["normalized_prediction"] as! String).unicodeScalars), "normalize \(prediction.debugDescription)")
            XCTAssertEqual(Array(AnswerNormalization.normalize(groundTruth).unicodeScalars),
                           Array((entry["normalized_ground_truth"] as! String).unicodeScalars), "normalize \(groundTruth.debugDescription)")
            XCTAssertEqual(SQuADMetric.exactMatch(prediction: prediction, groundTruth: groundTruth),
                           entry["exact_match"] as! Bool, "EM \(place)")
            XCTAssertEqual(SQuADMetric.f1(prediction: prediction, groundTruth: groundTruth),
                           entry["f1"] as! Double, accuracy: 1e-15, "F1 \(place)")
            XCTAssertEqual(SQuADMetric.f1V2(prediction: prediction, groundTruth: groundTruth),
                           entry["f1_v2"] as! Double, accuracy: 1e-15, "F1 v2 \(place)")
        }
    }

    func testHandPickedNormalizationRules() {
        XCTAssertEqual(AnswerNormalization.normalize("The  Cat, sat."), "cat sat")
        XCTAssertEqual(AnswerNormalization.normalize("\u{201C}Cat\u{201D}"), "\u{201C}cat\u{201D}", "Unicode quotes stay")
        XCTAssertEqual(AnswerNormalization.normalize("an anthem"), "anthem")
        XCTAssertEqual(AnswerNormalization.normalize("x\u{200B}y"), "x\u{200B}y", "zero width space is not whitespace in Python")
        XCTAssertEqual(AnswerNormalization.normalize("x\u{1C}y"), "x y", "U+001C is whitespace in Python")
        XCTAssertFalse(SQuADMetric.exactMatch(prediction: "e\u{301}", groundTruth: "\u{E9}"), "no canonical equivalence")
        XCTAssertEqual(SQuADMetric.f1(prediction: "the", groundTruth: "a"), 0, "v1.1: nothing shared → 0 even if both empty")
        XCTAssertEqual(SQuADMetric.f1V2(prediction: "the", groundTruth: "a"), 1, "v2.0: both empty → 1")
        XCTAssertEqual(SQuADMetric.f1(prediction: "cat cat dog", groundTruth: "cat dog dog"), 2.0 / 3.0, accuracy: 1e-15)
    }

    func testTeachersOnRealDataMatchTheOfficialScripts() throws {
        let expected = try XCTUnwrap(MRCTestData.fixtureJSON("eval/expected.json") as? [String: Any])
        let teachers = try XCTUnwrap(expected["teachers"] as? [String: [String: [String: Any]]])
        XCTAssertEqual(teachers.count, 5)
        let v1 = try SQuADReader.read(MRCTestData.sharedData("squad/dev-v1.1.json"))
        let v2 = try SQuADReader.read(MRCTestData.sharedData("squad/dev-v2.0.json"))
        let mrqa = try MRQAReader.read(MRCTestData.sharedData("mrqa/in_domain/SQuAD-dev.jsonl.gz"))
        XCTAssertEqual(v1.format, .squad1)
        XCTAssertEqual(v2.format, .squad2)
        XCTAssertEqual(mrqa.name, "SQuAD")
        for (teacher, numbers) in teachers {
            let predictions = try MRCEvaluation.readPredictions(MRCTestData.sharedData("teachers/dev/\(teacher).json"))
            check(DatasetEvaluation.evaluate(v1, predictions: predictions), numbers["squad/dev-v1.1.json"]!, "\(teacher) v1.1")
            check(DatasetEvaluation.evaluate(mrqa, predictions: predictions), numbers["mrqa/in_domain/SQuAD-dev.jsonl.gz"]!,
                  "\(teacher) MRQA")
            checkV2(DatasetEvaluation.evaluate(v2, predictions: predictions), numbers["squad/dev-v2.0.json"]!, "\(teacher) v2.0")
        }
        // The README's table: dnet-kd-student 84.9 / 93.9 on dev-v1.1.json.
        let student = DatasetEvaluation.evaluate(v1, predictions: try MRCEvaluation.readPredictions(
            MRCTestData.sharedData("teachers/dev/dnet-kd-student.json")))
        XCTAssertEqual((student.exactMatch * 10).rounded() / 10, 84.9)
        XCTAssertEqual((student.f1 * 10).rounded() / 10, 93.9)
        XCTAssertEqual(student.missing, 1)
    }

    func testSQuAD2NoAnswerThresholdsMatchTheOfficialScript() throws {
        let expected = try XCTUnwrap(MRCTestData.fixtureJSON("eval/expected.json") as? [String: Any])
        let numbers = try XCTUnwrap(expected["squad2"] as? [String: [String: Any]])
        let v2 = try SQuADReader.read(MRCTestData.sharedData("squad/dev-v2.0.json"))
        let predictions = try MRCEvaluation.readPredictions(TestPaths.fixture("mrc/eval/dev-v2.0-predictions.json"))
        let probabilities = try MRCEvaluation.readNoAnswerProbabilities(TestPaths.fixture("mrc/eval/dev-v2.0-na-probs.json"))
        checkV2(DatasetEvaluation.evaluate(v2, predictions: predictions), numbers["squad/dev-v2.0.json"]!, "v2")
        checkV2(DatasetEvaluation.evaluate(v2, predictions: predictions, noAnswerProbabilities: probabilities),
                numbers["squad/dev-v2.0.json na_probs"]!, "v2 na_probs")
        checkV2(DatasetEvaluation.evaluate(v2, predictions: predictions, noAnswerProbabilities: probabilities,
                                           noAnswerThreshold: 0.5),
                numbers["squad/dev-v2.0.json na_probs thresh 0.5"]!, "v2 na_probs threshold 0.5")
    }

    func testMRQAGroupsMacroAverageOverRealDatasets() throws {
        let expected = try XCTUnwrap(MRCTestData.fixtureJSON("eval/expected.json") as? [String: Any])
        let numbers = try XCTUnwrap(expected["subjqa"] as? [String: Any])
        let perDataset = try XCTUnwrap(numbers["datasets"] as? [String: [String: Any]])
        let predictions = try MRCEvaluation.readPredictions(TestPaths.fixture("mrc/eval/subjqa-predictions.json"))
        var datasets: [(dataset: MRCDataset, group: String?)] = []
        let subjQA = ["electronics", "grocery", "restaurants", "tripadvisor"].map { "mrqa/out_of_domain/SubjQA-\($0)-dev.jsonl.gz" }
        for path in ["mrqa/in_domain/SQuAD-dev.jsonl.gz"] + subjQA {
            let url = try MRCTestData.sharedData(path)
            datasets.append((try MRQAReader.read(url), MRCEvaluation.group(ofFile: url)))
        }
        let report = MRCEvaluation.evaluate(datasets, predictions: predictions, predictionsFile: "subjqa-predictions.json")
        XCTAssertEqual(report.datasets.map(\.name), ["SQuAD", "SubjQA-electronics", "SubjQA-grocery", "SubjQA-restaurants",
                                                     "SubjQA-tripadvisor"])
        for score in report.datasets {
            let key = score.name == "SQuAD" ? "SQuAD" : score.name + "-dev"
            check(score, try XCTUnwrap(perDataset[key], key), score.name)
        }
        XCTAssertEqual(report.groups.map(\.name), [MRCEvaluation.inDomain, MRCEvaluation.outOfDomain])
        for group in report.groups {
            let reference = try XCTUnwrap(numbers[group.name] as? [String: Double])
            XCTAssertEqual(group.exactMatch, reference["exact_match"]!, accuracy: Self.tolerance, group.name)
            XCTAssertEqual(group.f1, reference["f1"]!, accuracy: Self.tolerance, group.name)
        }
        XCTAssertEqual(report.groups[1].datasets.count, 4)
        // The JSON output carries the same numbers.
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(report.json.utf8)) as? [String: Any])
        let jsonDatasets = try XCTUnwrap(json["datasets"] as? [String: [String: Any]])
        XCTAssertEqual(jsonDatasets["SubjQA-grocery"]?["f1"] as? Double, report.datasets[2].f1)
        XCTAssertEqual(jsonDatasets["SubjQA-grocery"]?["count"] as? Int, 78)
        XCTAssertEqual((json["out_of_domain"] as? [String: Any])?["f1"] as? Double, report.groups[1].f1)
        XCTAssertTrue(report.table.contains("out_of_domain macro-average (4)"))
    }

    func testUnansweredQuestionsCountAsZero() throws {
        let json = """
        {"version": "1.1", "data": [{"title": "t", "paragraphs": [{"context": "The cat sat on the mat.", "qas": [
          {"id": "q1", "question": "Who sat?", "answers": [{"text": "The cat", "answer_start": 0}]},
          {"id": "q2", "question": "On what?", "answers": [{"text": "the mat", "answer_start": 15}, {"text": "mat", "answer_start": 19}]}
        ]}]}]}
        """
        let dataset = try SQuADReader.parse(Data(json.utf8), file: "tiny.json", dataset: "tiny")
        let score = DatasetEvaluation.evaluate(dataset, predictions: ["q2": "a mat!"])
        XCTAssertEqual(score.count, 2)
        XCTAssertEqual(score.missing, 1)
        XCTAssertEqual(score.exactMatch, 50)
        XCTAssertEqual(score.f1, 50)
    }

    private func check(_ score: DatasetScore, _ reference: [String: Any], _ place: String) {
        XCTAssertEqual(score.exactMatch, reference["exact_match"] as! Double, accuracy: Self.tolerance, "EM \(place)")
        XCTAssertEqual(score.f1, reference["f1"] as! Double, accuracy: Self.tolerance, "F1 \(place)")
        XCTAssertEqual(score.count, reference["count"] as? Int, "count \(place)")
    }

    private func checkV2(_ score: DatasetScore, _ reference: [String: Any], _ place: String) {
        let number = { (key: String) in reference[key] as! Double }
        XCTAssertEqual(score.exactMatch, number("exact"), accuracy: Self.tolerance, "exact \(place)")
        XCTAssertEqual(score.f1, number("f1"), accuracy: Self.tolerance, "f1 \(place)")
        XCTAssertEqual(score.count, reference["total"] as? Int, "total \(place)")
        guard let v2 = score.squad2, let has = v2.hasAnswer, let no = v2.noAnswer else {
            return XCTFail("no HasAns/NoAns breakdown, \(place)")
        }
        XCTAssertEqual(has.exactMatch, number("HasAns_exact"), accuracy: Self.tolerance, place)
        XCTAssertEqual(has.f1, number("HasAns_f1"), accuracy: Self.tolerance, place)
        XCTAssertEqual(has.count, reference["HasAns_total"] as? Int, place)
        XCTAssertEqual(no.exactMatch, number("NoAns_exact"), accuracy: Self.tolerance, place)
        XCTAssertEqual(no.f1, number("NoAns_f1"), accuracy: Self.tolerance, place)
        XCTAssertEqual(no.count, reference["NoAns_total"] as? Int, place)
        if reference["best_exact"] != nil {
            guard let best = v2.best else { return XCTFail("no best thresholds, \(place)") }
            XCTAssertEqual(best.exactMatch, number("best_exact"), accuracy: Self.tolerance, place)
            XCTAssertEqual(best.exactThreshold, number("best_exact_thresh"), place)
            XCTAssertEqual(best.f1, number("best_f1"), accuracy: Self.tolerance, place)
            XCTAssertEqual(best.f1Threshold, number("best_f1_thresh"), place)
        } else {
            XCTAssertNil(v2.best, place)
        }
    }
}
