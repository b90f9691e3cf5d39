import Foundation
import TestSupport
import XCTest
@testable import Text

final class VocabularyTests: XCTestCase {
    private func write(_ contents: String, name: String = "vocab.txt") throws -> URL {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("VocabularyTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent(name)
        try Data(contents.utf8).write(to: url)
        return url
    }

    private let specials = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n"

    func testReadsOneTokenPerLineWithLineIndexAsId() throws {
        let vocabulary = try Vocabulary(contentsOf: try write(specials + "hello\r\n##lo \u{A0}\n"))
        XCTAssertEqual(vocabulary.count, 7)
        XCTAssertEqual(vocabulary.id(for: "hello"), 5)
        XCTAssertEqual(vocabulary.id(for: "##lo"), 6)
        XCTAssertEqual(vocabulary.token(for: 6), "##lo")
        XCTAssertNil(vocabulary.token(for: 7))
        XCTAssertNil(vocabulary.token(for: -1))
        XCTAssertNil(vocabulary.id(for: "missing"))
        XCTAssertEqual([vocabulary.padId, vocabulary.unkId, vocabulary.clsId, vocabulary.sepId, vocabulary.maskId],
                       [0, 1, 2, 3, 4])
        XCTAssertEqual(vocabulary.longestTokenScalars, 6)
    }

    func testMiniLMVocabularyHasBertSpecialTokens() throws {
        let vocabulary = try Vocabulary(contentsOf: FixtureFiles.miniLMVocabulary)
        XCTAssertEqual(vocabulary.count, 30522)
        XCTAssertEqual([vocabulary.padId, vocabulary.unkId, vocabulary.clsId, vocabulary.sepId, vocabulary.maskId],
                       [0, 100, 101, 102, 103])
    }

    func testBadFilesGiveErrorsNamingFileAndLine() throws {
        let duplicate = try write(specials + "a\nb\na\n")
        XCTAssertThrowsError(try Vocabulary(contentsOf: duplicate)) { error in
            XCTAssertEqual(error as? TextError,
                           .duplicateToken(path: duplicate.path, token: "a", firstLine: 6, line: 8))
            XCTAssertTrue("\(error)".contains(duplicate.path))
        }
        let noUnknown = try write("[PAD]\n[CLS]\n[SEP]\n[MASK]\n")
        XCTAssertThrowsError(try Vocabulary(contentsOf: noUnknown)) { error in
            XCTAssertEqual(error as? TextError, .missingSpecialToken(path: noUnknown.path, token: "[UNK]"))
        }
        let empty = try write("")
        XCTAssertThrowsError(try Vocabulary(contentsOf: empty)) { error in
            XCTAssertEqual(error as? TextError, .emptyVocabulary(path: empty.path))
        }
        let binary = try write("")
        try Data([0x5B, 0xFF, 0xFE, 0x0A]).write(to: binary)
        XCTAssertThrowsError(try Vocabulary(contentsOf: binary)) { error in
            XCTAssertEqual(error as? TextError, .vocabularyNotUTF8(path: binary.path))
        }
        let missing = URL(fileURLWithPath: "/nonexistent/vocab.txt")
        XCTAssertThrowsError(try WordPieceTokenizer(vocabFile: missing)) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent/vocab.txt"), "\(error)")
        }
    }
}
