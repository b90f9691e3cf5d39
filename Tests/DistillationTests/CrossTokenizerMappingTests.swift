import Checkpoint
@testable import Distillation
import Foundation
import MRC
import Model
import TestSupport
import Text
import XCTest

/// A teacher with another tokenizer (here: the MiniLM vocabulary without lower-casing, a cased
/// teacher) scoring an uncased student's windows through character offsets, on real SQuAD contexts.
final class CrossTokenizerMappingTests: XCTestCase {
    func testCasedTeacherLogitsReachTheUncasedStudentThroughOffsets() throws {
        let vocabulary = try Vocabulary(contentsOf: TestPaths.miniLMDirectory.appendingPathComponent("vocab.txt"))
        let student = WordPieceTokenizer(vocabulary: vocabulary, lowercase: true)
        let teacher = WordPieceTokenizer(vocabulary: vocabulary, lowercase: false)
        let dataset = try MRCReader.read(TestPaths.sharedData("squad/dev-v1.1.json"))
        let examples = Array(dataset.examples.prefix(300))
        let builder = try WindowBuilder(tokenizer: student, settings: WindowSettings(maxSeqLen: 128, docStride: 64))
        let windows = builder.windows(for: examples).windows
        let mapping = CrossTokenizerMapping(teacher: teacher, maxLength: 512)
        let teacherWindows = mapping.teacherWindows(for: windows, examples: examples)
        var aligned = 0, total = 0
        for (window, mapped) in zip(windows, teacherWindows) {
            let example = examples[window.exampleIndex]
            let encoding = teacher.encode(example.context.string)
            let first = window.contextOffsets.first!.lowerBound, last = window.contextOffsets.last!.upperBound
            // The teacher window holds exactly the teacher's context tokens inside the student's characters.
            let expected = encoding.offsets.indices.filter { encoding.offsets[$0].lowerBound >= first && encoding.offsets[$0].upperBound <= last }
            XCTAssertEqual(mapped.window.contextOffsets, expected.map { encoding.offsets[$0] })
            XCTAssertEqual(Array(mapped.window.inputIds[mapped.window.contextStart..<(mapped.window.length - 1)]), expected.map { encoding.ids[$0] })
            XCTAssertEqual(mapped.window.inputIds[0], vocabulary.clsId)
            XCTAssertEqual(mapped.window.inputIds[mapped.window.length - 1], vocabulary.sepId)
            // Teacher logits that encode each teacher token's first (start) and last (end) character.
            let length = mapped.window.length
            var start = [Float](repeating: -7, count: length), end = start
            for (i, range) in mapped.window.contextOffsets.enumerated() {
                start[mapped.window.contextStart + i] = Float(range.lowerBound)
                end[mapped.window.contextStart + i] = Float(range.upperBound)
            }
            start[0] = 1234; end[0] = 4321
            let scores = mapping.studentScores(window, teacher: mapped, scores: SpanScores(startLogits: start, endLogits: end))
            XCTAssertEqual(scores.start[0], 1234); XCTAssertEqual(scores.end[0], 4321)
            let teacherStarts = Set(mapped.window.contextOffsets.map(\.lowerBound)), teacherEnds = Set(mapped.window.contextOffsets.map(\.upperBound))
            for position in 1..<window.length {
                guard let range = window.characterRange(ofToken: position) else {
                    XCTAssertEqual(scores.start[position], SpanLoss.paddingLogit, "question and [SEP] tokens get no probability")
                    continue
                }
                total += 1
                if teacherStarts.contains(range.lowerBound) {
                    XCTAssertEqual(scores.start[position], Float(range.lowerBound)); aligned += 1
                } else {
                    XCTAssertEqual(scores.start[position], SpanLoss.paddingLogit)
                }
                XCTAssertEqual(scores.end[position], teacherEnds.contains(range.upperBound) ? Float(range.upperBound) : SpanLoss.paddingLogit)
            }
        }
        // Cased pieces split capitalised words differently, yet most token starts coincide.
        let rate = Double(aligned) / Double(total)
        XCTAssertGreaterThan(rate, 0.8, "\(aligned) of \(total) student tokens share a start with a teacher token")
        XCTAssertLessThan(rate, 1.0, "the cased teacher must tokenise some words differently, or the test tests nothing")
        print("cross-tokenizer: \(aligned)/\(total) student context tokens start where a teacher token starts (\(rate))")
    }

    /// A byte-level BPE token that covers no character (the lone "Ġ" before a word the vocabulary does not merge
    /// with its space, offsets trimmed to an empty range) starts nothing: the student's word takes the start
    /// logit of the teacher token holding its first character.
    func testATokenCoveringNoCharacterStartsNothing() throws {
        let files = try XCTUnwrap(try TokenizerFiles.load(TestPaths.fixture("model/arch-roberta")))
        let teacher = try files.makeTokenizer()
        let text = "The café opened."
        let encoding = teacher.encode(text)
        let lone = try XCTUnwrap(encoding.offsets.firstIndex { $0.isEmpty }, "the fixture BPE leaves a lone Ġ before \"café\"")
        XCTAssertEqual(encoding.offsets[lone + 1].lowerBound, encoding.offsets[lone].lowerBound)
        let vocabulary = try Vocabulary(contentsOf: TestPaths.miniLMDirectory.appendingPathComponent("vocab.txt"))
        let student = WordPieceTokenizer(vocabulary: vocabulary, lowercase: true)
        let example = MRCExample(id: "q", question: "What opened?", context: ScalarText(text), answerTexts: [], answerSpans: [], dataset: "t")
        let window = try WindowBuilder(tokenizer: student, settings: WindowSettings(maxSeqLen: 32, docStride: 16, maxQueryLen: 8)).windows(for: [example]).windows[0]
        let mapped = CrossTokenizerMapping(teacher: teacher, maxLength: 40).teacherWindows(for: [window], examples: [example])[0]
        let position = mapped.window.contextStart + lone
        XCTAssertEqual(mapped.alignment.startAt[encoding.offsets[lone].lowerBound], position + 1, "the start comes from the token after the lone Ġ")
        XCTAssertFalse(mapped.alignment.startAt.values.contains(position) || mapped.alignment.endAt.values.contains(position))
    }
}
