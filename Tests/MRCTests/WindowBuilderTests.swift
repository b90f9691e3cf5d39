import Foundation
import Checkpoint
@testable import MRC
import Text
import XCTest

/// Windows against fixtures/mrc/features.json.gz, written by scripts/fixtures/make_feature_fixtures.py
/// from Hugging Face `BertTokenizerFast` (and cross-checked there against HF's own overflow windows).
final class WindowBuilderTests: XCTestCase {
    func testWindowsMatchTheReferenceOnRealQuestions() throws {
        let fixture = try XCTUnwrap(MRCTestData.fixtureJSON("features.json.gz") as? [String: Any])
        let cases = try XCTUnwrap(fixture["cases"] as? [[String: Any]])
        let tokenizer = try MRCTestData.miniLMTokenizer()
        var datasets: [String: [String: MRCExample]] = [:]
        var comparedWindows = 0
        var labelledWindows = 0
        for testCase in cases {
            let settings = try XCTUnwrap(testCase["settings"] as? [String: Int])
            let builder = try WindowBuilder(tokenizer: tokenizer, settings: WindowSettings(
                maxSeqLen: settings["max_seq_len"]!, docStride: settings["doc_stride"]!, maxQueryLen: settings["max_query_len"]!))
            let source = try XCTUnwrap(testCase["source"] as? String)
            if datasets[source] == nil {
                let dataset = try MRCReader.read(MRCTestData.sharedData(source))
                datasets[source] = Dictionary(dataset.examples.map { ($0.predictionKey, $0) }, uniquingKeysWith: { a, _ in a })
            }
            for entry in try XCTUnwrap(testCase["examples"] as? [[String: Any]]) {
                let key = try XCTUnwrap(entry["key"] as? String)
                let example = try XCTUnwrap(datasets[source]![key], "\(source): no question \(key)")
                let expected = try XCTUnwrap(entry["windows"] as? [[String: Any]])
                var report = FeatureReport()
                let windows = builder.windows(for: example, exampleIndex: 7,
                                              contextEncoding: tokenizer.encode(example.context.string), report: &report)
                let place = "\(source) \(key) \(settings)"
                XCTAssertEqual(windows.count, expected.count, "window count, \(place)")
                for (window, reference) in zip(windows, expected) {
                    compare(window, reference, maxSeqLen: settings["max_seq_len"]!, place: "\(place) window \(window.windowIndex)")
                    comparedWindows += 1
                    if window.label == .inWindow { labelledWindows += 1 }
                }
            }
        }
        XCTAssertGreaterThan(comparedWindows, 2000)
        XCTAssertGreaterThan(labelledWindows, 500)
    }

    private func compare(_ window: Window, _ reference: [String: Any], maxSeqLen: Int, place: String) {
        let ids = (reference["input_ids"] as! [Int]).map(Int32.init)
        let types = (reference["token_type_ids"] as! [Int]).map(Int32.init)
        XCTAssertEqual(window.exampleIndex, 7)
        XCTAssertEqual(window.length, ids.count, place)
        XCTAssertEqual(window.inputIds.count, maxSeqLen, place)
        assertSame(Array(window.inputIds.prefix(ids.count)), ids, "input ids, \(place)")
        assertSame(Array(window.tokenTypeIds.prefix(types.count)), types, "token type ids, \(place)")
        XCTAssertTrue(window.inputIds.dropFirst(ids.count).allSatisfy { $0 == 0 }, "padding ids, \(place)")
        XCTAssertTrue(window.tokenTypeIds.dropFirst(ids.count).allSatisfy { $0 == 0 }, "padding type ids, \(place)")
        assertSame(window.attentionMask, Array(repeating: 1, count: ids.count) + Array(repeating: 0, count: maxSeqLen - ids.count),
                   "attention mask, \(place)")
        XCTAssertEqual(window.contextStart, reference["context_start"] as? Int, place)
        XCTAssertEqual(window.contextTokenStart, reference["context_token_start"] as? Int, place)
        let offsets = (reference["offsets"] as! [[Int]]).map { $0[0]..<$0[1] }
        assertSame(window.contextOffsets, offsets, "offsets, \(place)")
        assertSame(window.contextIsMaxContext, (reference["max_context"] as! [Int]).map { $0 == 1 }, "max context, \(place)")
        XCTAssertEqual(window.startPosition, reference["start"] as? Int, "start, \(place)")
        XCTAssertEqual(window.endPosition, reference["end"] as? Int, "end, \(place)")
        XCTAssertEqual(window.label.rawValue, reference["label"] as? String, "label, \(place)")
    }

    /// Equality of two arrays, reporting the length or the first differing position rather than both arrays.
    private func assertSame<T: Equatable>(_ actual: [T], _ expected: [T], _ what: String,
                                          file: StaticString = #filePath, line: UInt = #line) {
        if actual.count != expected.count {
            XCTFail("\(what): \(actual.count) elements, expected \(expected.count)", file: file, line: line)
        } else if let index = actual.indices.first(where: { actual[$0] != expected[$0] }) {
            XCTFail("\(what): element \(index) is \(actual[index]), expected \(expected[index])", file: file, line: line)
        }
    }

    func testDocStrideWindowsAndMaxContext() {
        // 10 tokens, windows of 4 advancing by 3: [0,4) [3,7) [6,10).
        let spans = DocStride.spans(contextTokenCount: 10, maxContextTokens: 4, docStride: 3)
        XCTAssertEqual(spans, [0..<4, 3..<7, 6..<10])
        // Token 3: window 0 scores min(3,0)+0.04, window 1 min(0,3)+0.04 → tie, first wins.
        XCTAssertEqual(DocStride.maxContextFlags(spans: spans, spanIndex: 0), [true, true, true, true])
        XCTAssertEqual(DocStride.maxContextFlags(spans: spans, spanIndex: 1), [false, true, true, true])
        XCTAssertEqual(DocStride.maxContextFlags(spans: spans, spanIndex: 2), [false, true, true, true])
        // A stride longer than the window advances by the window: no gaps.
        XCTAssertEqual(DocStride.spans(contextTokenCount: 9, maxContextTokens: 4, docStride: 6), [0..<4, 4..<8, 8..<9])
        XCTAssertEqual(DocStride.spans(contextTokenCount: 0, maxContextTokens: 4, docStride: 2), [])
    }

    func testAnswerAlignmentThroughOffsets() {
        // "The  cat's hat": tokens the(0..<3) cat(5..<8) '(8..<9) s(9..<10) hat(11..<14)
        let offsets = [0..<3, 5..<8, 8..<9, 9..<10, 11..<14]
        XCTAssertTrue(AnswerAlignment.tokenSpan(of: 5..<10, in: offsets)! == (1, 3))
        XCTAssertTrue(AnswerAlignment.tokenSpan(of: 6..<7, in: offsets)! == (1, 1), "inside a token → that token")
        XCTAssertTrue(AnswerAlignment.tokenSpan(of: 3..<8, in: offsets)! == (1, 1), "leading whitespace → next token")
        XCTAssertNil(AnswerAlignment.tokenSpan(of: 3..<5, in: offsets), "whitespace only")
        XCTAssertTrue(AnswerAlignment.tokenSpan(of: 12..<20, in: offsets)! == (4, 4))
        XCTAssertNil(AnswerAlignment.tokenSpan(of: 14..<20, in: offsets))
    }

    func testReportCountsTruncationAndLostAnswers() throws {
        let tokenizer = try MRCTestData.miniLMTokenizer()
        let builder = try WindowBuilder(tokenizer: tokenizer, settings: WindowSettings(maxSeqLen: 16, docStride: 4, maxQueryLen: 3))
        let context = ScalarText("one two three four five six seven eight nine ten eleven twelve thirteen fourteen")
        // 10 context tokens per window: an answer of 11 words fits in none.
        let long = MRCExample(id: "long", question: "which words are these?", context: context, answerTexts: [],
                              answerSpans: [AnswerSpan(text: "", characters: 4..<64)], dataset: "t")
        let short = MRCExample(id: "short", question: "which?", context: context, answerTexts: [],
                               answerSpans: [AnswerSpan(text: "ten", characters: 45..<48)], dataset: "t")
        let unanswerable = MRCExample(id: "none", question: "which?", context: context, answerTexts: [], answerSpans: [],
                                      isImpossible: true, dataset: "t")
        let unlabelled = MRCExample(id: "lost", question: "which?", context: context, answerTexts: ["x"], answerSpans: [],
                                    dataset: "t")
        let (windows, report) = builder.windows(for: [long, short, unanswerable, unlabelled])
        XCTAssertEqual(report.examples, 4)
        XCTAssertEqual(report.truncatedQuestions, 1, "\"which words are these?\" has 5 tokens, 3 are kept")
        XCTAssertEqual(report.answersLostToTruncation, 1)
        XCTAssertEqual(report.unlabelledExamples, 1)
        XCTAssertEqual(report.windows, windows.count)
        XCTAssertTrue(windows.filter { $0.exampleIndex == 0 }.allSatisfy { $0.label == .outsideWindow && $0.startPosition == 0 })
        let shortWindows = windows.filter { $0.exampleIndex == 1 }
        XCTAssertTrue(shortWindows.contains { $0.label == .inWindow })
        for window in shortWindows where window.label == .inWindow {
            XCTAssertEqual(window.startPosition, window.endPosition)
            XCTAssertEqual(window.characterRange(ofToken: window.startPosition), 45..<48)
            XCTAssertEqual(tokenizer.vocabulary.token(for: window.inputIds[window.startPosition]), "ten")
        }
        XCTAssertTrue(windows.filter { $0.exampleIndex == 2 }.allSatisfy { $0.label == .impossible && $0.endPosition == 0 })
        XCTAssertTrue(windows.filter { $0.exampleIndex == 3 }.allSatisfy { $0.label == .unlabelled })
        // Every context token has its maximal context in exactly one window.
        for exampleIndex in 0..<4 {
            var owners = [Int: Int]()
            for window in windows where window.exampleIndex == exampleIndex {
                for (offset, isMax) in window.contextIsMaxContext.enumerated() where isMax {
                    owners[window.contextTokenStart + offset, default: 0] += 1
                }
            }
            XCTAssertEqual(owners.count, 14)
            XCTAssertTrue(owners.values.allSatisfy { $0 == 1 })
        }
    }

    func testSettingsAreValidated() {
        XCTAssertThrowsError(try WindowSettings(maxSeqLen: 600).validate())
        XCTAssertThrowsError(try WindowSettings(maxSeqLen: 64, docStride: 128, maxQueryLen: 64).validate())
        XCTAssertThrowsError(try WindowSettings(docStride: 0).validate())
        XCTAssertNoThrow(try WindowSettings(maxSeqLen: 512).validate())
    }

    /// The pair templates: BERT's `[CLS] q [SEP] c [SEP]` with token types 0 then 1, RoBERTa's
    /// `<s> q </s></s> c </s>` with every type 0; padding after the real tokens.
    func testPairInputLaysOutEachTemplate() throws {
        let bert = try Vocabulary(tokens: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + (5..<30).map { "w\($0)" })
        let b = PairInput(question: [7, 8], context: [20, 21, 22], template: .bert, vocabulary: bert, paddedLength: 10)
        XCTAssertEqual(b.inputIds, [2, 7, 8, 3, 20, 21, 22, 3, 0, 0])
        XCTAssertEqual(b.tokenTypeIds, [0, 0, 0, 0, 1, 1, 1, 1, 0, 0])
        XCTAssertEqual(b.attentionMask, [1, 1, 1, 1, 1, 1, 1, 1, 0, 0])
        XCTAssertEqual([b.contextStart, b.length], [4, 8])
        let roberta = try Vocabulary(tokens: ["<s>", "<pad>", "</s>", "<unk>", "<mask>"] + (5..<30).map { "w\($0)" }, specials: .roberta)
        let r = PairInput(question: [7, 8], context: [20, 21, 22], template: .roberta, vocabulary: roberta, paddedLength: 11)
        XCTAssertEqual(r.inputIds, [0, 7, 8, 2, 2, 20, 21, 22, 2, 1, 1])
        XCTAssertEqual(r.tokenTypeIds, [Int32](repeating: 0, count: 11))
        XCTAssertEqual(r.attentionMask, [1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0])
        XCTAssertEqual([r.contextStart, r.length], [5, 9])
    }
}
