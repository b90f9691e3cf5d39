import XCTest
import MRC
@testable import Distillation

final class BlackBoxTeacherTests: XCTestCase {
    typealias Support = DistillationTestSupport

    private func score(_ teacher: BlackBoxTeacher, _ examples: [MRCExample], _ windows: [Window]) throws -> [TeacherScores?] {
        try teacher.score(examples: examples, windows: windows, progress: { _ in })
    }

    private func assertDistributions(_ scores: TeacherScores, length: Int, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(scores.kind, .probabilities, file: file, line: line)
        XCTAssertEqual(scores.length, length, file: file, line: line)
        XCTAssertEqual(scores.start.reduce(0, +), 1, accuracy: 1e-5, file: file, line: line)
        XCTAssertEqual(scores.end.reduce(0, +), 1, accuracy: 1e-5, file: file, line: line)
    }

    func testRepeatedOccurrencesSplitTheMassEqually() throws {
        let example = Support.example(id: "q1", context: "Paris is big. Paris is old.")
        let windows = try Support.windows([example])
        XCTAssertEqual(windows.count, 1)
        let teacher = try Support.teacher(#"{"q1": "Paris"}"#)
        let scores = try XCTUnwrap(try score(teacher, [example], windows)[0])
        assertDistributions(scores, length: windows[0].length)
        let first = try XCTUnwrap(Support.position(ofCharacter: 0, in: windows[0]))
        let second = try XCTUnwrap(Support.position(ofCharacter: 14, in: windows[0]))
        XCTAssertEqual(scores.start[first], 0.5, accuracy: 1e-6)
        XCTAssertEqual(scores.start[second], 0.5, accuracy: 1e-6)
        XCTAssertEqual(scores.end[first], 0.5, accuracy: 1e-6)   // "paris" is one token
        XCTAssertEqual(teacher.counts["answers_found_exact"], 1)
        XCTAssertEqual(teacher.counts["questions_scored"], 1)
    }

    func testOffsetPicksTheNearestOccurrence() throws {
        let example = Support.example(id: "q1", context: "Paris is big. Paris is old. Paris is far.")
        let windows = try Support.windows([example])
        let teacher = try Support.teacher(#"{"q1": [{"text": "Paris", "probability": 0.9, "answer_start": 16}]}"#)
        let scores = try XCTUnwrap(try score(teacher, [example], windows)[0])
        let second = try XCTUnwrap(Support.position(ofCharacter: 14, in: windows[0]))
        XCTAssertEqual(scores.start[second], 1, accuracy: 1e-6)
        XCTAssertEqual(scores.end[second], 1, accuracy: 1e-6)
        XCTAssertEqual(teacher.counts["answers_offset_used"], 1)
    }

    func testNotFoundIsCountedAndTheTeacherAbstains() throws {
        let examples = [Support.example(id: "q1", context: "Paris is big."), Support.example(id: "q2", context: "Rome is old."),
                        Support.example(id: "q3", context: "Oslo is cold.")]
        let windows = try Support.windows(examples)
        let teacher = try Support.teacher(#"{"q1": "London", "q2": "Rome", "q3": ""}"#)
        let scores = try score(teacher, examples, windows)
        XCTAssertNil(scores[0])
        XCTAssertNotNil(scores[1])
        XCTAssertNil(scores[2])
        XCTAssertEqual(teacher.counts["answers_not_found"], 1)
        XCTAssertEqual(teacher.counts["questions_not_found"], 2)   // q1 (not found), q3 (only an empty candidate)
        XCTAssertEqual(teacher.counts["empty_candidates"], 1)
        XCTAssertEqual(teacher.counts["questions_scored"], 1)
        // A question absent from the file: abstain, counted apart.
        let missing = try Support.teacher(#"{"q2": "Rome"}"#)
        XCTAssertEqual(try score(missing, examples, windows).map { $0 != nil }, [false, true, false])
        XCTAssertEqual(missing.counts["questions_missing"], 2)
    }

    func testAnEmptyAnswerOnSQuAD2DataIsTheNoAnswerOnCLS() throws {
        var impossible = Support.example(id: "q1", context: (0..<60).map { "w\($0)" }.joined(separator: " "))
        impossible.allowsNoAnswer = true
        var mixed = Support.example(id: "q2", context: "Paris is big. Rome is old.")
        mixed.allowsNoAnswer = true
        let examples = [impossible, mixed]
        let windows = try Support.windows(examples, maxSeqLen: 40, docStride: 12, maxQueryLen: 8)
        let impossibleWindows = windows.filter { $0.exampleIndex == 0 }
        XCTAssertGreaterThan(impossibleWindows.count, 2)
        // An empty answer is the teacher's "no answer": q1's whole mass on [CLS] in every window.
        let teacher = try Support.teacher(#"{"q1": [{"text": "", "probability": 1}], "q2": [{"text": "", "probability": 0.3}, "#
                                          + #"{"text": "Rome", "probability": 0.5}, {"text": " ", "probability": 0.2}]}"#)
        let scores = try score(teacher, examples, windows)
        for (window, score) in zip(windows, scores) where window.exampleIndex == 0 {
            let score = try XCTUnwrap(score, "the no answer is an answer: the teacher does not abstain")
            assertDistributions(score, length: window.length)
            XCTAssertEqual(score.start[0], 1)
            XCTAssertEqual(score.end[0], 1)
        }
        // nbest: the empty candidates' 0.3 + 0.2 go to [CLS], Rome keeps 0.5 (of a total of 1).
        let window = try XCTUnwrap(windows.first { $0.exampleIndex == 1 })
        let mixture = try XCTUnwrap(scores[windows.firstIndex { $0.exampleIndex == 1 }!])
        assertDistributions(mixture, length: window.length)
        let rome = try XCTUnwrap(Support.position(ofCharacter: 14, in: window))
        XCTAssertEqual(mixture.start[0], 0.5, accuracy: 1e-6)
        XCTAssertEqual(mixture.start[rome], 0.5, accuracy: 1e-6)
        XCTAssertEqual(mixture.end[0], 0.5, accuracy: 1e-6)
        XCTAssertEqual(teacher.counts["no_answer_candidates"], 3)
        XCTAssertEqual(teacher.counts["empty_candidates"], 3)
        XCTAssertEqual(teacher.counts["questions_scored"], 2)
        XCTAssertEqual(teacher.counts["questions_not_found"], 0)
        // predictions.json's "" on SQuAD 2.0 data: the same.
        let answers = try Support.teacher(#"{"q1": ""}"#)
        for score in try score(answers, examples, windows).prefix(impossibleWindows.count) {
            XCTAssertEqual(score?.start[0], 1)
            XCTAssertEqual(score?.end[0], 1)
        }
        // On SQuAD 1.1 data an empty answer is no answer to learn from: the teacher abstains on q1.
        var v1 = examples
        for index in v1.indices { v1[index].allowsNoAnswer = false }
        let plain = try Support.teacher(#"{"q1": ""}"#)
        XCTAssertTrue(try score(plain, v1, windows).prefix(impossibleWindows.count).allSatisfy { $0 == nil })
        XCTAssertEqual(plain.counts["no_answer_candidates"], 0)
    }

    func testWhitespaceCaseAndUnicodeAnswersMapToTheirTokens() throws {
        let context = "Le café 東京 est à New\u{A0}York\nCity 👍🏽 naïve."
        let example = Support.example(id: "q1", context: context)
        let windows = try Support.windows([example])
        for (answer, kind, start) in [("new york city", "answers_found_case", 17), ("New York  City", "answers_found_whitespace", 17),
                                      ("東京", "answers_found_exact", 8), ("naïve", "answers_found_exact", 34)] {
            let teacher = try Support.teacher("{\"q1\": \"\(answer)\"}")
            let scores = try XCTUnwrap(try score(teacher, [example], windows)[0], answer)
            assertDistributions(scores, length: windows[0].length)
            let position = try XCTUnwrap(Support.position(ofCharacter: start, in: windows[0]), answer)
            XCTAssertEqual(scores.start[position], 1, accuracy: 1e-6, answer)
            XCTAssertEqual(teacher.counts[kind], 1, answer)
            XCTAssertEqual(TeacherStatistics.argmax(scores.end) >= position, true, answer)
        }
    }

    func testNBestMixtureIsRenormalisedAndSummedPerToken() throws {
        let example = Support.example(id: "q1", context: "Paris is big. Paris is old.")
        let windows = try Support.windows([example])
        let teacher = try Support.teacher("""
            {"q1": [{"text": "Paris", "probability": 0.3, "start_logit": 1.5, "end_logit": 2},
                    {"text": "London", "probability": 0.2},
                    {"text": "Paris is big", "probability": 0.1, "offset": 0},
                    {"text": "old", "probability": 0.1},
                    {"text": "", "probability": 0.3}]}
            """)
        let scores = try XCTUnwrap(try score(teacher, [example], windows)[0])
        assertDistributions(scores, length: windows[0].length)
        // Kept: Paris 0.3 (two occurrences), "Paris is big" 0.1 (at offset 0), old 0.1 → total 0.5.
        let first = try XCTUnwrap(Support.position(ofCharacter: 0, in: windows[0]))
        let second = try XCTUnwrap(Support.position(ofCharacter: 14, in: windows[0]))
        let old = try XCTUnwrap(Support.position(ofCharacter: 23, in: windows[0]))
        let big = try XCTUnwrap(Support.position(ofCharacter: 9, in: windows[0]))
        XCTAssertEqual(scores.start[first], 0.3 + 0.2, accuracy: 1e-6)   // 0.6/2 from Paris, 0.2 from "Paris is big"
        XCTAssertEqual(scores.start[second], 0.3, accuracy: 1e-6)
        XCTAssertEqual(scores.start[old], 0.2, accuracy: 1e-6)
        XCTAssertEqual(scores.end[big], 0.2, accuracy: 1e-6)
        XCTAssertEqual(teacher.counts["answers_not_found"], 1)
        XCTAssertEqual(teacher.counts["empty_candidates"], 1)
    }

    func testSpansCrossingTheWindowBoundaryGoToCLS() throws {
        let words = (0..<60).map { "w\($0)" }
        let context = words.joined(separator: " ")
        let answer = "w20 w21 w22"
        let example = Support.example(id: "q1", context: context, answer: answer)
        let windows = try Support.windows([example], maxSeqLen: 40, docStride: 12, maxQueryLen: 8)
        XCTAssertGreaterThan(windows.count, 2)
        let teacher = try Support.teacher("{\"q1\": \"\(answer)\"}")
        let scores = try score(teacher, [example], windows)
        var inside = 0
        var outside = 0
        for (window, score) in zip(windows, scores) {
            let score = try XCTUnwrap(score)
            assertDistributions(score, length: window.length)
            if window.label == .inWindow {
                inside += 1
                XCTAssertEqual(score.start[window.startPosition], 1, accuracy: 1e-6)
                XCTAssertEqual(score.end[window.endPosition], 1, accuracy: 1e-6)
            } else {
                outside += 1
                XCTAssertEqual(score.start[0], 1)
                XCTAssertEqual(score.end[0], 1)
            }
        }
        XCTAssertGreaterThan(inside, 0)
        XCTAssertGreaterThan(outside, 0)
        // Some window holds only part of the answer and still says [CLS].
        let partial = windows.filter { window in
            let range = window.contextOffsets.first!.lowerBound..<window.contextOffsets.last!.upperBound
            let span = example.answerSpans[0].characters
            return range.overlaps(span) && !(range.lowerBound <= span.lowerBound && span.upperBound <= range.upperBound)
        }
        XCTAssertFalse(partial.isEmpty)
        XCTAssertEqual(teacher.counts["questions_scored"], 1, "counted once, not per window")
    }

    func testCountsOfContiguousShardsAddUpToTheWhole() throws {
        let long = (0..<60).map { "w\($0)" }.joined(separator: " ")
        let examples = [Support.example(id: "q1", context: long), Support.example(id: "q2", context: "Rome is old."),
                        Support.example(id: "q3", context: long), Support.example(id: "q4", context: "Oslo is cold.")]
        let windows = try Support.windows(examples, maxSeqLen: 40, docStride: 12, maxQueryLen: 8)
        let json = #"{"q1": [{"text": "w20 w21", "probability": 1}], "q2": [{"text": "Paris", "probability": 1}], "#
            + #""q3": [{"text": "w5", "probability": 1}, {"text": "", "probability": 0}]}"#
        let whole = try Support.teacher(json)
        let expected = try score(whole, examples, windows)
        // Cut inside q1's windows and inside q3's: every question is counted by the part holding its window 0.
        let cuts = [0, 2, windows.count - 2, windows.count]
        XCTAssertGreaterThan(windows.count, 6)
        var summed = [String: Int]()
        var parts: [TeacherScores?] = []
        for (lower, upper) in zip(cuts, cuts.dropFirst()) {
            let part = try Support.teacher(json)
            parts += try score(part, examples, Array(windows[lower..<upper]))
            summed.merge(part.counts, uniquingKeysWith: +)
        }
        XCTAssertEqual(parts, expected)
        XCTAssertEqual(summed, whole.counts)
        XCTAssertEqual(whole.counts["questions_scored"], 2)
        XCTAssertEqual(whole.counts["questions_missing"], 1)
        XCTAssertEqual(whole.counts["questions_not_found"], 1)
        XCTAssertEqual(whole.counts["empty_candidates"], 1)
    }

    func testFileErrorsNameTheFileAndKey() {
        func error(_ json: String) -> String {
            do { _ = try BlackBoxPredictions.parse(Data(json.utf8), file: "teacher.json"); return "no error" } catch {
                return "\(error)"
            }
        }
        XCTAssertTrue(error(#"{"a": "x", "b": 3}"#).contains("key \"b\""))
        XCTAssertTrue(error(#"{"a": "x", "b": 3}"#).contains("teacher.json"))
        XCTAssertTrue(error(#"{"a": [{"text": "x", "probability": "high"}]}"#).contains("[0].probability"))
        XCTAssertTrue(error(#"{"a": [{"text": "x", "probability": 1, "offset": -2}]}"#).contains("[0].offset"))
        XCTAssertTrue(error(#"{"a": [{"probability": 1}]}"#).contains("[0].text"))
        XCTAssertTrue(error(#"{"a": [], "b": "x"}"#).contains("key \"b\""))
        XCTAssertTrue(error("[1, 2]").contains("expected a JSON object"))
        XCTAssertTrue(error("{").contains("not valid JSON"))
        XCTAssertEqual(try BlackBoxPredictions.parse(Data(#"{"a": [{"text": "x", "probability": 1}]}"#.utf8), file: "f").format, .nBest)
    }
}
