import Foundation
import MRC
import TestSupport
import Text
import XCTest

/// D-NET's evaluation protocol on the MRQA 2019 dev sets of ../shared/data: SQuAD + NewsQA in-domain,
/// BioASQ, DROP, DuoRC and RelationExtraction out-of-domain.
final class MRQA2019Tests: XCTestCase {
    static let files: [(path: String, group: String)] = [
        ("squad/dev-v1.1.json", MRCEvaluation.inDomain),
        ("mrqa/in_domain/NewsQA-dev.jsonl.gz", MRCEvaluation.inDomain),
        ("mrqa/out_of_domain/BioASQ-dev.jsonl.gz", MRCEvaluation.outOfDomain),
        ("mrqa/out_of_domain/DROP-dev.jsonl.gz", MRCEvaluation.outOfDomain),
        ("mrqa/out_of_domain/DuoRC-dev.jsonl.gz", MRCEvaluation.outOfDomain),
        ("mrqa/out_of_domain/RelationExtraction-dev.jsonl.gz", MRCEvaluation.outOfDomain),
    ]

    /// Per-dataset EM/F1 and the two groups' macro-averages equal the official scripts' (re-stated in
    /// scripts/reference/squad_eval.py) on made-up predictions that include the released text at each
    /// first char span — which MRQA's normalisation sometimes made differ from `answers`: scored
    /// against `answers`, as the official script does.
    func testProtocolMatchesTheOfficialScripts() throws {
        let expected = try XCTUnwrap(MRCTestData.fixtureJSON("eval/expected.json") as? [String: Any])
        let numbers = try XCTUnwrap(expected["mrqa2019"] as? [String: Any])
        let perDataset = try XCTUnwrap(numbers["datasets"] as? [String: [String: Any]])
        let predictions = try MRCEvaluation.readPredictions(TestPaths.fixture("mrc/eval/mrqa2019-predictions.json"))
        let datasets = try Self.files.map { (try MRCReader.read(MRCTestData.sharedData($0.path)), Optional($0.group)) }
        let report = MRCEvaluation.evaluate(datasets, predictions: predictions, predictionsFile: "mrqa2019-predictions.json")
        let keys = ["SQuAD", "NewsQA-dev", "BioASQ-dev", "DROP-dev", "DuoRC-dev", "RelationExtraction-dev"]
        XCTAssertEqual(report.datasets.count, keys.count)
        for (score, key) in zip(report.datasets, keys) {
            let reference = try XCTUnwrap(perDataset[key], key)
            XCTAssertEqual(score.exactMatch, reference["exact_match"] as! Double, accuracy: 1e-9, "EM \(key)")
            XCTAssertEqual(score.f1, reference["f1"] as! Double, accuracy: 1e-9, "F1 \(key)")
            XCTAssertEqual(score.count, reference["count"] as? Int, "count \(key)")
        }
        XCTAssertEqual(report.groups.map(\.name), [MRCEvaluation.inDomain, MRCEvaluation.outOfDomain])
        XCTAssertEqual(report.groups.map(\.datasets.count), [2, 4])
        for group in report.groups {
            let reference = try XCTUnwrap(numbers[group.name] as? [String: Double])
            XCTAssertEqual(group.exactMatch, reference["exact_match"]!, accuracy: 1e-9, group.name)
            XCTAssertEqual(group.f1, reference["f1"]!, accuracy: 1e-9, group.name)
        }
    }

    /// Every new file reads without loss: each question of the raw file (decompressed by /bin/gzip, parsed
    /// by Foundation) is an example, in order, or a reported skip; `--strict` refuses exactly the files
    /// with skips, naming the file and the first skipped record; every kept span is the context's text.
    func testNewFilesReadWithoutLoss() throws {
        let paths = ["mrqa/in_domain/NewsQA-train.jsonl.gz"] + Self.files.dropFirst().map(\.path)
        for path in paths {
            let url = try MRCTestData.sharedData(path)
            let raw = try Self.rawQuestions(url)
            let dataset = try MRCReader.read(url)
            let skippedQuestions = dataset.report.skippedQuestions
            XCTAssertEqual(dataset.examples.count + skippedQuestions, raw.qids.count, "\(path): every question read or reported")
            XCTAssertEqual(dataset.report.contexts, raw.contexts, path)
            if skippedQuestions == 0 { XCTAssertEqual(dataset.examples.map(\.qid), raw.qids, "\(path): the questions, in order") }
            let spans = dataset.examples.reduce(0) { $0 + $1.answerSpans.count }
            XCTAssertEqual(spans + dataset.report.skippedAnswerSpans, raw.spans, "\(path): every char span kept or reported")
            for example in dataset.examples {
                XCTAssertFalse(example.answerTexts.isEmpty, "\(path) \(example.qid): the gold answers are kept")
                for span in example.answerSpans { XCTAssertEqual(example.context.slice(span.characters), span.text) }
            }
            if let first = dataset.report.skipped.first {
                XCTAssertThrowsError(try MRCReader.read(url, strict: true), path) { error in
                    let error = error as? DataReadError
                    XCTAssertEqual(error?.file, url.path)
                    XCTAssertEqual(error?.location, first.location)
                }
            } else {
                XCTAssertNoThrow(try MRCReader.read(url, strict: true), path)
            }
        }
    }

    /// qids, contexts and char spans (one per `char_spans` entry) of an MRQA jsonl.gz, read independently.
    static func rawQuestions(_ url: URL) throws -> (qids: [String], contexts: Int, spans: Int) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = ["-dc", url.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        var qids: [String] = [], contexts = 0, spans = 0
        for line in data.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
            let record = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
            if record["header"] != nil { continue }
            contexts += 1
            for qa in try XCTUnwrap(record["qas"] as? [[String: Any]]) {
                qids.append(try XCTUnwrap(qa["qid"] as? String))
                for answer in (qa["detected_answers"] as? [[String: Any]]) ?? [] {
                    spans += ((answer["char_spans"] as? [Any]) ?? []).count
                }
            }
        }
        return (qids, contexts, spans)
    }
}
