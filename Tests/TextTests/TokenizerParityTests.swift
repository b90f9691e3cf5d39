import Checkpoint
import Foundation
import TestSupport
import XCTest
@testable import Text

/// Identical ids and offsets to Hugging Face `BertTokenizerFast` (expected outputs made by
/// scripts/fixtures/make_tokenizer_fixtures.py), uncased and cased, over every question and
/// context of ../shared/data and over fixtures/tokenizer/hard_strings.json.
final class TokenizerParityTests: XCTestCase {
    private struct Expected {
        var ids: [Int32]
        var offsets: [Range<Int>]
    }

    private func tokenizers() throws -> [(name: String, tokenizer: WordPieceTokenizer)] {
        let vocabulary = try Vocabulary(contentsOf: FixtureFiles.miniLMVocabulary)
        XCTAssertEqual(vocabulary.count, 30522)
        return [("uncased", WordPieceTokenizer(vocabulary: vocabulary, lowercase: true)),
                ("cased", WordPieceTokenizer(vocabulary: vocabulary, lowercase: false))]
    }

    /// Describes the first difference between `actual` and `expected` for `text`, or nil.
    private func firstDifference(_ actual: Encoding, _ expected: Expected, text: String,
                                 vocabulary: Vocabulary) -> String? {
        let actualOffsets = actual.offsets
        if actual.ids == expected.ids && actualOffsets == expected.offsets { return nil }
        let count = min(actual.ids.count, expected.ids.count)
        var index = 0
        while index < count && actual.ids[index] == expected.ids[index]
            && actualOffsets[index] == expected.offsets[index] { index += 1 }
        let scalars = Array(text.unicodeScalars)
        let at = index < expected.offsets.count ? expected.offsets[index].lowerBound
            : (index < actualOffsets.count ? actualOffsets[index].lowerBound : scalars.count)
        let from = max(0, at - 30), to = min(scalars.count, at + 30)
        var snippet = String.UnicodeScalarView()
        snippet.append(contentsOf: scalars[from ..< to])
        func describe(_ ids: [Int32], _ offsets: [Range<Int>]) -> String {
            guard index < ids.count else { return "<end, \(ids.count) tokens>" }
            return "\(vocabulary.token(for: ids[index]) ?? "?")(\(ids[index])) \(offsets[index])"
        }
        return "token \(index): expected \(describe(expected.ids, expected.offsets)), got "
            + "\(describe(actual.ids, actualOffsets)) near scalar \(at): \(String(snippet).debugDescription)"
    }

    func testCorpusMatchesHuggingFace() throws {
        let fixture = TestPaths.fixture("tokenizer/corpus_expected.jsonl.gz")
        let records = try FixtureFiles.jsonLines(FixtureFiles.gunzip(fixture), file: fixture)
        let texts = try FixtureFiles.corpusTexts()
        XCTAssertEqual(texts.count, records.count, "corpus text count differs from \(fixture.path): regenerate it")
        XCTAssertGreaterThan(texts.count, 20000)
        let tokenizers = try tokenizers()
        var failures: [String] = []
        var compared = 0, tokens = 0
        for (number, (text, record)) in zip(texts, records).enumerated() {
            guard record["fnv1a64"] as? String == FixtureFiles.fnv1a64(text),
                  record["scalars"] as? Int == text.unicodeScalars.count else {
                XCTFail("text \(number) differs from the one the fixture was made from: \(text.prefix(60).debugDescription)")
                return
            }
            for (name, tokenizer) in tokenizers {
                guard let mode = record[name] as? [String: Any], let ids = mode["ids"] as? [Int],
                      let deltas = mode["offsetDeltas"] as? [Int], deltas.count == 2 * ids.count else {
                    XCTFail("\(fixture.path) line \(number + 1): malformed \(name) entry")
                    return
                }
                var offsets: [Range<Int>] = []
                var previousEnd = 0
                for index in ids.indices {
                    let start = previousEnd + deltas[2 * index]
                    previousEnd = start + deltas[2 * index + 1]
                    offsets.append(start ..< previousEnd)
                }
                let expected = Expected(ids: ids.map(Int32.init), offsets: offsets)
                let actual = tokenizer.encode(text)
                compared += 1
                tokens += ids.count
                if let difference = firstDifference(actual, expected, text: text, vocabulary: tokenizer.vocabulary) {
                    failures.append("\(name) text \(number): \(difference)")
                }
            }
        }
        print("tokenizer parity: \(compared) encodings of \(texts.count) texts, \(tokens) tokens, \(failures.count) differ")
        XCTAssertTrue(failures.isEmpty, "\(failures.count) encodings differ from Hugging Face; first ones:\n"
            + failures.prefix(10).joined(separator: "\n"))
    }

    func testHardStringsMatchHuggingFace() throws {
        let stringsURL = TestPaths.fixture("tokenizer/hard_strings.json")
        let expectedURL = TestPaths.fixture("tokenizer/hard_strings_expected.json")
        let strings = try (FixtureFiles.jsonObject(stringsURL) as? [String: Any])?["strings"] as? [String]
        let entries = try FixtureFiles.jsonObject(expectedURL) as? [[String: Any]]
        guard let strings, let entries else { return XCTFail("malformed \(stringsURL.path) or \(expectedURL.path)") }
        XCTAssertEqual(strings.count, entries.count, "\(expectedURL.path) is stale: regenerate it")
        XCTAssertGreaterThanOrEqual(strings.count, 60)
        for (number, (text, entry)) in zip(strings, entries).enumerated() {
            XCTAssertEqual(entry["text"] as? String, text, "\(expectedURL.path) entry \(number) is for another string")
        }
        try checkEntries(entries, from: expectedURL)
    }

    func testRandomMixesOfHardCasesMatchHuggingFace() throws {
        let url = TestPaths.fixture("tokenizer/fuzz_expected.json.gz")
        guard let entries = try JSONSerialization.jsonObject(with: FixtureFiles.gunzip(url)) as? [[String: Any]] else {
            return XCTFail("\(url.path) is not a JSON array")
        }
        XCTAssertEqual(entries.count, 3000)
        try checkEntries(entries, from: url)
    }

    /// Compares entries `{"text", "uncased"|"cased": {"ids", "tokens", "offsets": [[start, end]]}}`.
    private func checkEntries(_ entries: [[String: Any]], from url: URL) throws {
        let tokenizers = try tokenizers()
        var failures: [String] = []
        for (number, entry) in entries.enumerated() {
            guard let text = entry["text"] as? String else { return XCTFail("\(url.path) entry \(number): no text") }
            for (name, tokenizer) in tokenizers {
                guard let mode = entry[name] as? [String: Any], let ids = mode["ids"] as? [Int],
                      let tokens = mode["tokens"] as? [String], let pairs = mode["offsets"] as? [[Int]] else {
                    return XCTFail("\(url.path) entry \(number): malformed \(name)")
                }
                let expected = Expected(ids: ids.map(Int32.init), offsets: pairs.map { $0[0] ..< $0[1] })
                let actual = tokenizer.encode(text)
                if let difference = firstDifference(actual, expected, text: text, vocabulary: tokenizer.vocabulary) {
                    failures.append("\(name) entry \(number): \(difference)")
                } else if actual.tokens != tokens {
                    failures.append("\(name) entry \(number): tokens \(actual.tokens) != \(tokens)")
                }
            }
        }
        XCTAssertTrue(failures.isEmpty, "\(failures.count) encodings differ from \(url.lastPathComponent):\n"
            + failures.prefix(20).joined(separator: "\n"))
    }
}
