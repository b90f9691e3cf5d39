import Foundation
import TestSupport
import XCTest
@testable import Text

/// Behaviour on small hand-checked cases with a tiny vocabulary; parity with Hugging Face on
/// real data lives in `TokenizerParityTests`.
final class WordPieceTokenizerTests: XCTestCase {
    private func tinyVocabulary() throws -> Vocabulary {
        try Vocabulary(tokens: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un", "##aff", "##able",
                                "hello", "!", "cafe", "caf", "##é", "the", "中", ",", "i"])
    }

    func testGreedyLongestMatchAndOffsets() throws {
        let tokenizer = WordPieceTokenizer(vocabulary: try tinyVocabulary())
        let encoding = tokenizer.encode("Unaffable  hello!")
        XCTAssertEqual(encoding.tokens, ["un", "##aff", "##able", "hello", "!"])
        XCTAssertEqual(encoding.ids, [5, 6, 7, 8, 9])
        XCTAssertEqual(encoding.offsets, [0 ..< 2, 2 ..< 5, 5 ..< 9, 11 ..< 16, 16 ..< 17])
    }
}
