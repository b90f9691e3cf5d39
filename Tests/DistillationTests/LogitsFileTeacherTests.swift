import Foundation
import MRC
import TestSupport
import XCTest
@testable import Distillation

/// `teach --teacher logits:FILE` against fixtures/distillation/logits (scripts/fixtures/make_logits_fixtures.py):
/// a tiny random Hugging Face QA model with a cased vocabulary that splits words unlike the student's, run by
/// scripts/teacher_logits.py over tiny_squad.json in windows of its own; the expected mapping onto the
/// student's (MiniLM) windows and the stored soft labels are computed in Python from docs/TEACHER-LOGITS.md.
final class LogitsFileTeacherTests: XCTestCase {
    let fixtures = TestPaths.fixture("distillation/logits")
    let data = TestPaths.fixture("training/tiny_squad.json")
    var logitsFile: URL { fixtures.appendingPathComponent("teacher.jsonl.gz") }
    let windowArguments = ["--max-seq-len", "64", "--doc-stride", "16", "--max-query-len", "16"]

    struct ExpectedWindow {
        var key: String, window: Int, length: Int, teacherWindow: Int?
        var startLogits: [Float] = [], endLogits: [Float] = [], startLogProbs: [Double] = [], endLogProbs: [Double] = []
    }

    func expected() throws -> (counts: [String: Int], windows: [ExpectedWindow]) {
        let json = try JSONSerialization.jsonObject(with: DataFile.contents(of: fixtures.appendingPathComponent("expected.json.gz")))
        let root = try XCTUnwrap(json as? [String: Any])
        let counts = try XCTUnwrap(root["counts"] as? [String: Int])
        let windows = try XCTUnwrap(root["windows"] as? [[String: Any]]).map { entry in
            var window = ExpectedWindow(key: entry["key"] as! String, window: entry["window"] as! Int, length: entry["length"] as! Int,
                                        teacherWindow: entry["teacher_window"] as? Int)
            if window.teacherWindow != nil {
                window.startLogits = (entry["start_logits"] as! [Double]).map { Float($0) }
                window.endLogits = (entry["end_logits"] as! [Double]).map { Float($0) }
                window.startLogProbs = entry["start_log_probs"] as! [Double]
                window.endLogProbs = entry["end_log_probs"] as! [Double]
            }
            return window
        }
        return (counts, windows)
    }

    /// The teacher API: every student window's mapped logits are exactly Python's (they are copies of the
    /// file's numbers), the abstentions and the counts are Python's.
    func testMappedLogitsAreThoseOfTheIndependentMapping() throws {
        let (counts, expectedWindows) = try expected()
        let examples = try MRCReader.read(data).examples
        let windows = try DistillationTestSupport.windows(examples, maxSeqLen: 64, docStride: 16, maxQueryLen: 16)
        XCTAssertEqual(windows.count, expectedWindows.count, "Python's student windows are Swift's")
        let teacher = try LogitsFileTeacher(name: "teacher", url: logitsFile)
        XCTAssertEqual(teacher.logits.model, "tiny-random-bert-cased-qa")
        // Scored in two calls, as `teach` hands over chunks: the counts add up.
        let split = windows.count / 2
        let scores = try teacher.score(examples: examples, windows: Array(windows[..<split]), progress: { _ in })
            + teacher.score(examples: examples, windows: Array(windows[split...]), progress: { _ in })
        for (index, (window, expected)) in zip(windows, expectedWindows).enumerated() {
            XCTAssertEqual(examples[window.exampleIndex].id, expected.key, "window \(index)")
            XCTAssertEqual(window.windowIndex, expected.window, "window \(index)")
            XCTAssertEqual(window.length, expected.length, "window \(index)")
            guard expected.teacherWindow != nil else {
                XCTAssertNil(scores[index], "window \(index) of \(expected.key): the teacher abstains")
                continue
            }
            let score = try XCTUnwrap(scores[index], "window \(index) of \(expected.key)")
            XCTAssertEqual(score.kind, .logits)
            XCTAssertEqual(score.start, expected.startLogits, "start logits of window \(index) (\(expected.key))")
            XCTAssertEqual(score.end, expected.endLogits, "end logits of window \(index) (\(expected.key))")
        }
        XCTAssertEqual(teacher.counts, counts)
    }

    /// `teach` with the named and weighted forms: two members reading the same file (`ref=logits:FILE:2`, and
    /// `logits:FILE` named after the file) give the one teacher's distribution, stored as fp16 log-probabilities.
    func testTeachStoresTheExpectedSoftLabels() throws {
        let (counts, expectedWindows) = try expected()
        let root = try CLIProcess.temporaryDirectory("mrc-logits-teach")
        defer { try? FileManager.default.removeItem(at: root) }
        let labels = root.appendingPathComponent("labels.bin")
        let result = try CLIProcess.run(["teach", "--student", TestPaths.miniLMDirectory.path, "--data", data.path,
                                         "--out", labels.path, "--teacher", "ref=logits:\(logitsFile.path):2",
                                         "--teacher", "logits:\(logitsFile.path)", "--no-progress"] + windowArguments,
                                        logDirectory: root, name: "teach")
        XCTAssertEqual(result.status, 0, result.stderr)
        let store = try SoftLabelStore(url: labels)
        XCTAssertEqual(store.provenance.teachers.map(\.name), ["ref", "teacher"])
        XCTAssertEqual(store.provenance.teachers.map(\.kind), ["logits", "logits"])
        XCTAssertEqual(store.provenance.teachers.map(\.weight), [2, 1])
        XCTAssertEqual(store.provenance.teachers.map(\.counts), [counts, counts])
        XCTAssertEqual(store.provenance.precision, .fp16)
        XCTAssertEqual(store.count, expectedWindows.count)
        var start = [Float](repeating: 0, count: 512), end = start
        var compared = 0
        for (index, expected) in expectedWindows.enumerated() {
            XCTAssertEqual(store.key(at: index), expected.key)
            XCTAssertEqual(store.windowIndex(at: index), expected.window)
            XCTAssertEqual(store.length(at: index), expected.length)
            XCTAssertEqual(store.isLabelled(at: index), expected.teacherWindow != nil, "record \(index) (\(expected.key))")
            guard expected.teacherWindow != nil, store.logProbabilities(at: index, start: &start, end: &end) else { continue }
            for (side, stored, want, logits) in [("start", start, expected.startLogProbs, expected.startLogits),
                                                  ("end", end, expected.endLogProbs, expected.endLogits)] {
                let bound = DistillationTestSupport.float32Bound([logits])
                for position in 0..<expected.length {
                    let tolerance = DistillationTestSupport.storeTolerance(want[position], bound: bound)
                    XCTAssertLessThanOrEqual(abs(Double(stored[position]) - want[position]), tolerance,
                                             "\(side) of record \(index) (\(expected.key)), position \(position)")
                    compared += 1
                }
            }
        }
        XCTAssertGreaterThan(compared, 1000)
    }

    // MARK: errors

    func write(_ lines: [String], name: String = "bad.jsonl") throws -> URL {
        let root = try DistillationTestSupport.temporaryDirectory("logits-errors")
        let url = root.appendingPathComponent(name)
        try (lines.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    let header = #"{"header": {"format": "mrc-distill-teacher-logits", "version": 1, "model": "m", "tokenizer": "t"}}"#
    let good = #"{"id": "q1", "window": 0, "offsets": [[0, 2], [3, 5]], "start_logits": [1, 2], "end_logits": [3, 4], "null_start_logit": 0.5, "null_end_logit": -0.5}"#

    func assertReadError(_ lines: [String], line: Int, field: String, message: String, id: String? = "q2",
                         file: StaticString = #filePath, sourceLine: UInt = #line) throws {
        let url = try write(lines)
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        XCTAssertThrowsError(try LogitsFile.read(url), file: file, line: sourceLine) { error in
            guard let error = error as? DataReadError else { return XCTFail("\(error)", file: file, line: sourceLine) }
            XCTAssertEqual(error.file, url.path, file: file, line: sourceLine)
            XCTAssertEqual(error.location, "line \(line)", file: file, line: sourceLine)
            XCTAssertEqual(error.field, field, file: file, line: sourceLine)
            if let id { XCTAssertEqual(error.recordId, id, file: file, line: sourceLine) }
            XCTAssertTrue(error.message.contains(message), "\(error)", file: file, line: sourceLine)
            let text = "\(error)"
            XCTAssertTrue(text.contains(url.path) && text.contains("line \(line)") && (field.isEmpty || text.contains("`\(field)`")), text,
                          file: file, line: sourceLine)
        }
    }

    func record(_ replacing: String, with value: String) -> String {
        good.replacingOccurrences(of: "\"q1\"", with: "\"q2\"").replacingOccurrences(of: replacing, with: value)
    }

    func testBadRecordsNameFileLineAndField() throws {
        try assertReadError([header, good, record("\"end_logits\": [3, 4]", with: "\"end_logits\": [3]")],
                            line: 3, field: "end_logits", message: "1 logits for 2 offsets")
        try assertReadError([header, good, record("[1, 2]", with: "[1, 1e39]")],
                            line: 3, field: "start_logits[1]", message: "not a finite float32")
        try assertReadError([header, good, record("[1, 2]", with: "[1, \"2\"]")],
                            line: 3, field: "start_logits[1]", message: "expected a number")
        try assertReadError([header, good, "", record("[3, 5]]", with: "[5, 3]]")],
                            line: 4, field: "offsets[1]", message: "not a character range")
        try assertReadError([header, good, record(", \"null_end_logit\": -0.5", with: "")],
                            line: 3, field: "null_end_logit", message: "missing")
        try assertReadError([header, good, good], line: 3, field: "window", message: "given twice (first on line 2)", id: "q1")
        try assertReadError([header, good, record("0.5,", with: "NaN,")], line: 3, field: "", message: "not valid JSON", id: nil)
        try assertReadError([header.replacingOccurrences(of: "\"version\": 1", with: "\"version\": 2"), good],
                            line: 1, field: "header.version", message: "version 2 is not supported", id: nil)
        try assertReadError([good], line: 1, field: "header", message: "missing", id: nil)
        try assertReadError([header, header], line: 2, field: "header", message: "only allowed on the first line", id: nil)
    }

    /// `teach` stops on a bad logits file before scoring, saying where; `logits:` is refused for `predict --model`.
    func testTeachNamesTheBadRecord() throws {
        let url = try write([header, good, record("\"end_logits\": [3, 4]", with: "\"end_logits\": [3]")], name: "bad.jsonl")
        let root = url.deletingLastPathComponent()
        defer { try? FileManager.default.removeItem(at: root) }
        let taught = try CLIProcess.run(["teach", "--student", TestPaths.miniLMDirectory.path, "--data", data.path,
                                         "--out", root.appendingPathComponent("labels.bin").path, "--teacher", "logits:\(url.path)",
                                         "--no-progress"] + windowArguments, logDirectory: root, name: "teach")
        XCTAssertNotEqual(taught.status, 0)
        XCTAssertTrue(taught.stderr.contains("\(url.path), line 3 (question \"q2\"), field `end_logits`: 1 logits for 2 offsets"),
                      taught.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent("labels.bin").path))
        let predicted = try CLIProcess.run(["predict", "--model", "logits:\(url.path)", "--data", data.path,
                                            "--out", root.appendingPathComponent("predictions").path],
                                           logDirectory: root, name: "predict")
        XCTAssertNotEqual(predicted.status, 0)
        XCTAssertTrue(predicted.stderr.contains("logits files are teachers"), predicted.stderr)
    }

    /// Offsets past the end of the question's context are refused when the teacher meets the question.
    func testOffsetsOutsideTheContextAreRefused() throws {
        let url = try write([header, good, record("[3, 5]]", with: "[3, 50]]")])
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        let teacher = try LogitsFileTeacher(name: "bad", url: url)
        let examples = [DistillationTestSupport.example(id: "q1", context: "ab cd"),
                        DistillationTestSupport.example(id: "q2", context: "ab cd")]
        let windows = try DistillationTestSupport.windows(examples)
        XCTAssertEqual(try teacher.score(examples: [examples[0]], windows: [windows[0]], progress: { _ in }).count, 1)
        XCTAssertThrowsError(try teacher.score(examples: examples, windows: windows, progress: { _ in })) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains(url.path) && text.contains("line 3") && text.contains("`offsets[1]`")
                          && text.contains("outside the context"), text)
        }
    }

    /// A teacher that scores "ab cd" with its own tokens "a" "b" / "cd": the mapping, the null logits, the
    /// padding, and a question absent from the file.
    func testMappingRuleOnAHandWrittenFile() throws {
        let url = try write([header, #"{"id": "q1", "window": 0, "offsets": [[0, 1], [1, 2], [3, 5]], "start_logits": [1, 2, 3], "end_logits": [4, 5, 6], "null_start_logit": 7, "null_end_logit": 8}"#])
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        let teacher = try LogitsFileTeacher(name: "hand", url: url)
        let examples = [DistillationTestSupport.example(id: "q1", context: "ab cd"),
                        DistillationTestSupport.example(id: "q2", context: "ab cd")]
        let windows = try DistillationTestSupport.windows(examples)
        let scores = try teacher.score(examples: examples, windows: windows, progress: { _ in })
        let window = windows[0], score = try XCTUnwrap(scores[0])
        XCTAssertNil(scores[1], "q2 is not in the file")
        let pad = -10_000 as Float
        var start = [Float](repeating: pad, count: window.length), end = start
        start[0] = 7; end[0] = 8
        for (i, range) in window.contextOffsets.enumerated() {
            let position = window.contextStart + i
            start[position] = [0: 1, 1: 2, 3: 3][range.lowerBound] ?? pad
            end[position] = [1: 4, 2: 5, 5: 6][range.upperBound] ?? pad
        }
        XCTAssertEqual(score.start, start)
        XCTAssertEqual(score.end, end)
        XCTAssertEqual(teacher.counts["questions_missing"], 1)
        XCTAssertEqual(teacher.counts["questions_scored"], 1)
    }
}
