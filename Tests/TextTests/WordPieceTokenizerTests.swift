import Checkpoint
import Foundation
import TestSupport
import XCTest
@testable import Text

/// Behaviour on small hand-checked cases with a tiny vocabulary; parity with Hugging Face on
/// real data lives in `TokenizerParityTests`.
final class WordPieceTokenizerTests: XCTestCase {
    private func tinyVocabulary() throws -> Vocabulary {
        try Vocabulary(tokens: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un", "##aff", "##able",
                                "hello", "!", "cafe", "caf", "##é", "the", "中", ",", "i", "a", "##a"])
    }

    func testGreedyLongestMatchAndOffsets() throws {
        let tokenizer = WordPieceTokenizer(vocabulary: try tinyVocabulary())
        let encoding = tokenizer.encode("Unaffable  hello!")
        XCTAssertEqual(encoding.tokens, ["un", "##aff", "##able", "hello", "!"])
        XCTAssertEqual(encoding.ids, [5, 6, 7, 8, 9])
        XCTAssertEqual(encoding.offsets, [0 ..< 2, 2 ..< 5, 5 ..< 9, 11 ..< 16, 16 ..< 17])
    }

    func testWordWithoutSplitBecomesOneUnknownCoveringIt() throws {
        let tokenizer = WordPieceTokenizer(vocabulary: try tinyVocabulary())
        let encoding = tokenizer.encode("the unaffablex!")
        XCTAssertEqual(encoding.tokens, ["the", "[UNK]", "!"])
        XCTAssertEqual(encoding.offsets, [0 ..< 3, 4 ..< 14, 14 ..< 15])
    }

    func testWordsOverOneHundredScalarsAreUnknown() throws {
        let tokenizer = WordPieceTokenizer(vocabulary: try tinyVocabulary())
        let hundred = tokenizer.encode(String(repeating: "a", count: 100))
        XCTAssertEqual(hundred.count, 100)
        XCTAssertEqual(hundred.offsets.last, 99 ..< 100)
        let longer = tokenizer.encode("x " + String(repeating: "a", count: 101))
        XCTAssertEqual(longer.tokens, ["[UNK]", "[UNK]"])
        XCTAssertEqual(longer.offsets, [0 ..< 1, 2 ..< 103])
    }

    func testUncasedFoldsAccentsAndCaseKeepingOriginalOffsets() throws {
        let vocabulary = try tinyVocabulary()
        let uncased = WordPieceTokenizer(vocabulary: vocabulary)
        // A stripped trailing mark falls outside the token (Hugging Face gives (0, 4) too); a
        // precomposed É maps back to itself; İ decomposes to I + U+0307, then lowercases.
        let encoding = uncased.encode("Cafe\u{301} CAFÉ İ")
        XCTAssertEqual(encoding.tokens, ["cafe", "cafe", "i"])
        XCTAssertEqual(encoding.offsets, [0 ..< 4, 6 ..< 10, 11 ..< 12])
        let cased = WordPieceTokenizer(vocabulary: vocabulary, lowercase: false)
        let casedEncoding = cased.encode("café Café")
        XCTAssertEqual(casedEncoding.tokens, ["caf", "##é", "[UNK]"])
        XCTAssertEqual(casedEncoding.offsets, [0 ..< 3, 3 ..< 4, 5 ..< 9])
    }

    func testControlAndFormatCharactersVanishWithoutSplitting() throws {
        let tokenizer = WordPieceTokenizer(vocabulary: try tinyVocabulary())
        let encoding = tokenizer.encode("\u{FEFF}hel\u{200B}lo\u{0}\u{7}!\u{A0}中中")
        XCTAssertEqual(encoding.tokens, ["hello", "!", "中", "中"])
        XCTAssertEqual(encoding.offsets, [1 ..< 7, 9 ..< 10, 11 ..< 12, 12 ..< 13])
        XCTAssertEqual(tokenizer.encode("").count, 0)
        XCTAssertEqual(tokenizer.encode(" \u{200B}\t\n ").count, 0)
    }

    func testEmojiAreScalarsNotGraphemes() throws {
        let tokenizer = WordPieceTokenizer(vocabulary: try tinyVocabulary())
        // The family emoji is one Character but seven scalars; offsets count scalars.
        let encoding = tokenizer.encode("👨\u{200D}👩\u{200D}👧 the")
        XCTAssertEqual(encoding.tokens, ["[UNK]", "the"])
        XCTAssertEqual(encoding.offsets, [0 ..< 5, 6 ..< 9])
    }

    func testJSONLineEscapesAndKeepsKeyOrder() throws {
        let encoding = Encoding(ids: [1, 2], tokens: ["\"q\\", "é\u{1}"], offsets: [0 ..< 1, 1 ..< 3])
        XCTAssertEqual(encoding.jsonLine,
                       #"{"ids": [1, 2], "tokens": ["\"q\\", "é\u0001"], "offsets": [[0, 1], [1, 3]]}"#)
        let parsed = try JSONSerialization.jsonObject(with: Data(encoding.jsonLine.utf8)) as? [String: Any]
        XCTAssertEqual(parsed?["tokens"] as? [String], encoding.tokens)
    }

    func testLongestTokenBoundsTheSearch() throws {
        // "##able" is the longest token: 6 scalars, "##" included.
        XCTAssertEqual(WordPieceTokenizer(vocabulary: try tinyVocabulary()).longestTokenScalars, 6)
    }

    func testMissingVocabularyFileIsAnErrorNamingIt() {
        let missing = URL(fileURLWithPath: "/nonexistent/vocab.txt")
        XCTAssertThrowsError(try WordPieceTokenizer(vocabFile: missing)) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent/vocab.txt"), "\(error)")
        }
    }
}
