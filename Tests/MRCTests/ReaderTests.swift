import Foundation
@testable import MRC
import TestSupport
import XCTest

final class ReaderTests: XCTestCase {
    // MARK: real files

    func testReadsTheRealSQuADFiles() throws {
        let v1 = try SQuADReader.read(MRCTestData.sharedData("squad/dev-v1.1.json"))
        XCTAssertEqual(v1.format, .squad1)
        XCTAssertEqual(v1.examples.count, 845)
        XCTAssertEqual(v1.report.questions, 845)
        XCTAssertEqual(v1.report.skipped, [], "the README says every answer_start was checked")
        XCTAssertEqual(v1.name, "dev-v1.1")
        for example in v1.examples {
            XCTAssertFalse(example.answerSpans.isEmpty, example.id)
            for span in example.answerSpans { XCTAssertEqual(example.context.slice(span.characters), span.text) }
        }
        let v2 = try SQuADReader.read(MRCTestData.sharedData("squad/dev-v2.0.json"))
        XCTAssertEqual(v2.format, .squad2)
        XCTAssertEqual(v2.examples.count, 1787)
        XCTAssertEqual(v2.examples.filter(\.isImpossible).count, 956)
        XCTAssertTrue(v2.examples.filter(\.isImpossible).allSatisfy { $0.answerSpans.isEmpty && $0.answerTexts.isEmpty })
    }

    func testReadsTheRealMRQAFilesWithAndWithoutHeader() throws {
        let squad = try MRQAReader.read(MRCTestData.sharedData("mrqa/in_domain/SQuAD-dev.jsonl.gz"))
        XCTAssertEqual(squad.name, "SQuAD", "from the header line")
        XCTAssertEqual(squad.examples.count, 844)
        XCTAssertEqual(squad.report.skipped, [])
        let first = try XCTUnwrap(squad.examples.first)
        XCTAssertEqual(first.id, "570963a5200fba1400367f33")
        XCTAssertEqual(first.qid, "31ef3972da3a42c991f680bb5fe26534")
        XCTAssertEqual(first.predictionKey, first.qid)
        // char_spans are inclusive: [53, 57] is "BSkyB".
        XCTAssertEqual(first.answerSpans.first, AnswerSpan(text: "BSkyB", characters: 53..<58))
        XCTAssertEqual(first.answerTexts, ["BSkyB", "British Sky Broadcasting", "British Sky Broadcasting"])

        let news = try MRCReader.read(MRCTestData.sharedData("mrqa/samples/NewsQA-sample.jsonl.gz"))
        XCTAssertEqual(news.format, .mrqa)
        XCTAssertEqual(news.name, "NewsQA-sample", "no header: the file name")
        XCTAssertEqual(news.report.contexts, 3)
        XCTAssertEqual(news.examples.count, 17)
        let subj = try MRQAReader.read(MRCTestData.sharedData("mrqa/out_of_domain/SubjQA-grocery-dev.jsonl.gz"))
        XCTAssertEqual(subj.name, "SubjQA-grocery")
        XCTAssertTrue(subj.examples.allSatisfy { $0.id.isEmpty && !$0.answerSpans.isEmpty }, "no SQuAD ids, char_spans only")
        for example in squad.examples + news.examples + subj.examples {
            for span in example.answerSpans { XCTAssertEqual(example.context.slice(span.characters), span.text) }
        }
    }

    // MARK: malformed input: an error naming file, place and field

    func testSQuADErrorsNameRecordAndField() {
        let cases: [(json: String, location: String, field: String)] = [
            (#"{"data": [{"paragraphs": [{"context": "abc", "qas": [{"id": "q", "question": "?", "answers": [{"text": "a"}]}]}]}]}"#,
             "data[0].paragraphs[0].qas[0]", "answers[0].answer_start"),
            (#"{"data": [{"paragraphs": [{"context": "abc", "qas": [{"id": 5, "question": "?", "answers": []}]}]}]}"#,
             "data[0].paragraphs[0].qas[0]", "id"),
            (#"{"data": [{"paragraphs": [{"qas": []}]}]}"#, "data[0].paragraphs[0]", "context"),
            (#"{"data": [{"paragraphs": [{"context": "abc", "qas": [{"id": "q", "question": "?", "answers": [{"text": "a", "answer_start": 0.5}]}]}]}]}"#,
             "data[0].paragraphs[0].qas[0]", "answers[0].answer_start"),
            (#"{"data": [{"paragraphs": [{"context": "abc", "qas": [{"id": "q", "question": "?", "answers": [], "is_impossible": 1}]}]}]}"#,
             "data[0].paragraphs[0].qas[0]", "is_impossible"),
            (#"{"version": "1.1"}"#, "top level", "data"),
            (#"[1, 2]"#, "top level", ""),
        ]
        for testCase in cases {
            XCTAssertThrowsError(try SQuADReader.parse(Data(testCase.json.utf8), file: "bad.json", dataset: "bad"), testCase.json) { error in
                guard let error = error as? DataReadError else { return XCTFail("\(error)") }
                XCTAssertEqual(error.file, "bad.json")
                XCTAssertEqual(error.location, testCase.location, testCase.json)
                XCTAssertEqual(error.field, testCase.field, testCase.json)
                XCTAssertTrue(error.description.hasPrefix("bad.json, \(testCase.location)"), error.description)
            }
        }
        // The question's id, where the record has one, is named too.
        XCTAssertThrowsError(try SQuADReader.parse(Data(cases[0].json.utf8), file: "bad.json", dataset: "bad")) { error in
            XCTAssertEqual("\(error)", #"bad.json, data[0].paragraphs[0].qas[0] (question "q"), field `answers[0].answer_start`: missing"#)
        }
        let mrqa = #"{"context": "abc", "qas": [{"qid": "7f", "question": "?", "answers": [3]}]}"#
        XCTAssertThrowsError(try MRQAReader.parse(Data(mrqa.utf8), file: "bad.jsonl", fallbackName: "bad")) { error in
            XCTAssertEqual("\(error)", #"bad.jsonl, line 1, qas[0] (question "7f"), field `answers[0]`: expected a string, found a number"#)
        }
        XCTAssertThrowsError(try SQuADReader.parse(Data("{\"data\": [".utf8), file: "cut.json", dataset: "cut")) { error in
            XCTAssertEqual("\(error)", "cut.json: not valid JSON at line 1, column 11: expected a value, found the end of the text")
        }
    }

    /// JSON syntax errors point at the line and column (Foundation alone says only "not in the correct format").
    func testSyntaxErrorsNameLineAndColumn() throws {
        let squad = "{\"version\": \"1.1\",\n \"data\": [{\"paragraphs\": [\n  {\"context\": \"Zürich\" \"qas\": []}]}]}"
        XCTAssertThrowsError(try SQuADReader.parse(Data(squad.utf8), file: "bad.json", dataset: "bad")) { error in
            XCTAssertEqual("\(error)", "bad.json: not valid JSON at line 3, column 24: expected ',' or '}' after an object member, found '\"'")
        }
        let mrqa = #"{"header": {"dataset": "X"}}"# + "\n" + #"{"context": "a b", "qas": [{"qid": "1", "question": "q" "answers": []}]}"#
        XCTAssertThrowsError(try MRQAReader.parse(Data(mrqa.utf8), file: "bad.jsonl", fallbackName: "bad")) { error in
            XCTAssertEqual("\(error)", "bad.jsonl, line 2: not valid JSON at column 57: expected ',' or '}' after an object member, found '\"'")
        }
    }

    func testSQuADAnswersThatMissTheContextAreSkippedAndReported() throws {
        let json = #"""
        {"version": "1.1", "data": [{"paragraphs": [{"context": "Zürich is in Switzerland.", "qas": [
          {"id": "q1", "question": "Where?", "answers": [{"text": "Switzerland", "answer_start": 13},
                                                       {"text": "Switzerland", "answer_start": 12},
                                                       {"text": "Switzerland", "answer_start": 20}]}]}]}]}
        """#
        let dataset = try SQuADReader.parse(Data(json.utf8), file: "f.json", dataset: "f")
        let example = try XCTUnwrap(dataset.examples.first)
        // Scalar offsets: "ü" is one character, as in Python.
        XCTAssertEqual(example.answerSpans, [AnswerSpan(text: "Switzerland", characters: 13..<24)])
        XCTAssertEqual(example.answerTexts.count, 3, "texts stay for evaluation")
        XCTAssertEqual(dataset.report.skippedAnswerSpans, 2)
        XCTAssertEqual(dataset.report.skipped.map(\.location),
                       ["data[0].paragraphs[0].qas[0].answers[1]", "data[0].paragraphs[0].qas[0].answers[2]"])
        XCTAssertTrue(dataset.report.summary.contains("skipped 0 questions, 2 answer spans"))
    }

    func testMRQAErrorsNameLineAndField() {
        let context = #"{"context": "abc def", "qas": ["#
        let cases: [(text: String, location: String, field: String)] = [
            ("{\"header\": {\"dataset\": \"X\"}}\nnot json\n", "line 2", ""),
            ("{\"header\": {}}\n\(context){\"question\": \"?\", \"answers\": []}]}\n", "line 2, qas[0]", "qid"),
            ("\(context){\"qid\": \"q\", \"question\": \"?\", \"answers\": [\"a\", 3]}]}", "line 1, qas[0]", "answers[1]"),
            ("\(context){\"qid\": \"q\", \"question\": \"?\", \"answers\": [], \"detected_answers\": [{\"text\": \"a\"}]}]}",
             "line 1, qas[0]", "detected_answers[0].char_spans"),
            ("\(context){\"qid\": \"q\", \"question\": \"?\", \"answers\": [], \"detected_answers\": [{\"char_spans\": [[1]]}]}]}",
             "line 1, qas[0]", "detected_answers[0].char_spans[0]"),
            ("\(context){\"qid\": \"q\", \"question\": \"?\", \"answers\": [], \"detected_answers\": [{\"char_spans\": [[1, \"2\"]]}]}]}",
             "line 1, qas[0]", "detected_answers[0].char_spans[0][1]"),
            ("\(context)]}\n{\"header\": {}}\n", "line 2", "header"),
            ("{\"qas\": []}\n", "line 1", "context"),
        ]
        for testCase in cases {
            XCTAssertThrowsError(try MRQAReader.parse(Data(testCase.text.utf8), file: "bad.jsonl", fallbackName: "bad"),
                                 testCase.text) { error in
                guard let error = error as? DataReadError else { return XCTFail("\(error)") }
                XCTAssertEqual(error.file, "bad.jsonl")
                XCTAssertEqual(error.location, testCase.location, testCase.text)
                XCTAssertEqual(error.field, testCase.field, testCase.text)
            }
        }
    }

    func testMRQASpansOutsideTheContextAreSkippedAndReported() throws {
        let text = """
        {"context": "abc def", "qas": [{"qid": "q1", "question": "?", "answers": ["def"], "detected_answers": [
          {"text": "def", "char_spans": [[4, 6], [4, 7], [5, 4]], "token_spans": [[1, 1]]}]}]}

        {"context": "xyz", "qas": [{"qid": "q2", "question": "?", "answers": ["x"]}]}
        """.replacingOccurrences(of: "\n  ", with: " ")
        let dataset = try MRQAReader.parse(Data(text.utf8), file: "f.jsonl", fallbackName: "f")
        XCTAssertEqual(dataset.examples.map(\.qid), ["q1", "q2"])
        XCTAssertEqual(dataset.examples[0].answerSpans, [AnswerSpan(text: "def", characters: 4..<7)])
        XCTAssertEqual(dataset.report.skippedAnswerSpans, 2)
        XCTAssertEqual(dataset.report.skipped.first?.location, "line 1, qas[0].detected_answers[0].char_spans[1]")
        XCTAssertTrue(dataset.examples[1].answerSpans.isEmpty, "detected_answers are optional")
    }

    func testCorruptGzipAndMissingFilesAreErrorsNamingTheFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mrc-readers-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let corrupt = directory.appendingPathComponent("broken.jsonl.gz")
        try Data([0x1f, 0x8b, 0x08, 0x00, 0x01, 0x02, 0x03]).write(to: corrupt)
        XCTAssertThrowsError(try MRCReader.read(corrupt)) { error in
            XCTAssertEqual("\(error)", corrupt.path + ": gzip data ends inside a member (the file is truncated) at byte offset 7 of the compressed file")
        }
        let missing = directory.appendingPathComponent("nothing.json")
        XCTAssertThrowsError(try MRCReader.read(missing)) { error in
            XCTAssertTrue("\(error)".hasPrefix(missing.path + ": cannot read"), "\(error)")
        }
        let unknown = directory.appendingPathComponent("data.csv")
        try Data("a,b".utf8).write(to: unknown)
        XCTAssertThrowsError(try MRCReader.read(unknown))
        // Plain (uncompressed) jsonl works too.
        let plain = directory.appendingPathComponent("Tiny.jsonl")
        try Data(#"{"context": "a b", "qas": [{"qid": "q", "question": "?", "answers": ["b"]}]}"#.utf8).write(to: plain)
        XCTAssertEqual(try MRCReader.read(plain).examples.count, 1)
    }

    func testPredictionFileErrorsNameTheQuestion() throws {
        XCTAssertThrowsError(try FlatJSONObject.parse(Data(#"{"q1": "a", "q2": [1]}"#.utf8), file: "p.json")) { error in
            XCTAssertEqual((error as? DataReadError)?.field, "q2")
        }
        XCTAssertThrowsError(try FlatJSONObject.parse(Data("{\"q1\": \"a\",\n \"q2\" 1}".utf8), file: "p.json")) { error in
            XCTAssertEqual((error as? DataReadError)?.location, "line 2, column 7")
        }
        let object = try FlatJSONObject.parse(Data(#"{"b": 0.5, "a": "x\u00e9\ud83d\ude00\n", "b": 1e-3}"#.utf8), file: "p.json")
        XCTAssertEqual(object.keys, ["b", "a"], "file order; a repeated key keeps its first place")
        XCTAssertEqual(object["b"], .number(0.001), "and its last value")
        XCTAssertEqual(object["a"], .string("xé😀\n"))
    }
}

/// `--strict`: a record the reader would skip becomes an error naming the file and the record.
final class StrictReadingTests: XCTestCase {
    func testStrictRefusesWhatTheReaderWouldSkip() throws {
        let json = #"""
        {"version": "1.1", "data": [{"paragraphs": [{"context": "Zürich is in Switzerland.", "qas": [
          {"id": "q1", "question": "Where?", "answers": [{"text": "Switzerland", "answer_start": 13}]},
          {"id": "q2", "question": "What?", "answers": [{"text": "Geneva", "answer_start": 3}]}]}]}]}
        """#
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("strict-\(UUID().uuidString).json")
        try Data(json.utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let lenient = try MRCReader.read(url)
        XCTAssertEqual(lenient.report.skipped.count, 1, "the lenient read reports the skip")
        XCTAssertThrowsError(try MRCReader.read(url, strict: true)) { error in
            guard let error = error as? DataReadError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.file, url.path)
            XCTAssertEqual(error.location, lenient.report.skipped[0].location)
            XCTAssertTrue(error.message.hasPrefix("--strict: the reader would skip this"), error.message)
            XCTAssertTrue(error.message.hasSuffix("(1 record to skip in this file)"), error.message)
        }
        XCTAssertNoThrow(try MRCReader.read(TestPaths.fixture("training/tiny_squad.json"), strict: true))
    }
}
