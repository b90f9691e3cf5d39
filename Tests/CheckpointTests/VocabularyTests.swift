import Checkpoint
import Foundation
import TestSupport
import XCTest

final class VocabularyTests: XCTestCase {
    private func write(_ contents: String) throws -> URL {
        try write(Data(contents.utf8))
    }

    private func write(_ data: Data) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("VocabularyTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("vocab.txt")
        try data.write(to: url)
        return url
    }

    private let specials = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n"

    func testReadsOneTokenPerLineWithLineIndexAsId() throws {
        let vocabulary = try Vocabulary(contentsOf: try write(specials + "hello\r\n##lo \u{A0}\n"))
        XCTAssertEqual(vocabulary.count, 7)
        XCTAssertEqual(vocabulary.tokens, ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "##lo"])
        XCTAssertEqual(vocabulary.id(for: "hello"), 5)
        XCTAssertEqual(vocabulary.id(for: "##lo"), 6)
        XCTAssertEqual(vocabulary.token(for: 6), "##lo")
        XCTAssertNil(vocabulary.token(for: 7))
        XCTAssertNil(vocabulary.token(for: -1))
        XCTAssertNil(vocabulary.id(for: "missing"))
        XCTAssertEqual([vocabulary.padId, vocabulary.unkId, vocabulary.clsId, vocabulary.sepId, vocabulary.maskId],
                       [0, 1, 2, 3, 4])
        // Without a final line end, and with CRLF throughout.
        let crlf = try Vocabulary(contentsOf: try write(specials.replacingOccurrences(of: "\n", with: "\r\n") + "hello"))
        XCTAssertEqual(crlf.tokens, vocabulary.tokens.dropLast())
    }

    /// Line ends and trailing whitespace of every kind, read as Hugging Face `tokenizers` reads them
    /// (fixture from scripts/fixtures/make_vocab_fixtures.py).
    func testReadsLikeHuggingFaceTokenizers() throws {
        struct Expected: Decodable { let tokens: [String] }
        let expectedURL = TestPaths.fixture("checkpoint/vocab_whitespace_expected.json")
        let expected = try JSONDecoder().decode(Expected.self, from: try Data(contentsOf: expectedURL))
        let vocabulary = try Vocabulary(contentsOf: TestPaths.fixture("checkpoint/vocab_whitespace.txt"))
        XCTAssertEqual(vocabulary.tokens, expected.tokens)
        XCTAssertEqual(vocabulary.tokens.last, "", "a whitespace-only last line is the empty token")
    }

    func testReadsAndWritesMiniLMVocabulary() throws {
        let file = TestPaths.miniLMDirectory.appendingPathComponent("vocab.txt")
        let vocabulary = try Vocabulary(contentsOf: file)
        XCTAssertEqual(vocabulary.count, 30522)
        XCTAssertEqual([vocabulary.padId, vocabulary.unkId, vocabulary.clsId, vocabulary.sepId, vocabulary.maskId],
                       [0, 100, 101, 102, 103])
        XCTAssertEqual(vocabulary.ids["[UNK]"], 100)
        XCTAssertEqual(vocabulary.tokens[2003], "is")
        XCTAssertEqual(vocabulary.id(for: "is"), 2003)

        let url = try write("")
        try vocabulary.write(to: url)
        XCTAssertEqual(try Data(contentsOf: url), try Data(contentsOf: file))
        XCTAssertEqual(try Vocabulary(contentsOf: url), vocabulary)
    }

    /// `tokenizers` would give a repeated token its later id and leave the earlier id without a
    /// token; this reader rejects the file instead, naming both lines.
    func testRepeatedTokenIsAnErrorNamingBothLines() throws {
        let duplicate = try write(specials + "a\nb\na \n")
        XCTAssertThrowsError(try Vocabulary(contentsOf: duplicate)) { error in
            XCTAssertEqual(error as? CheckpointError, .invalidVocabulary(
                file: duplicate.path, line: 8, reason: "token 'a' repeats line 6 (ids would be ambiguous)"))
            XCTAssertTrue("\(error)".contains(duplicate.path))
            XCTAssertTrue("\(error)".contains("line 8"))
        }
        XCTAssertThrowsError(try Vocabulary(tokens: ["[PAD]", "x", "x"])) { error in
            XCTAssertEqual(error as? CheckpointError, .invalidVocabulary(
                file: "<vocabulary>", line: 3, reason: "token 'x' repeats line 2 (ids would be ambiguous)"))
        }
    }

    func testBadFilesGiveErrorsNamingFileAndLine() throws {
        let noUnknown = try write("[PAD]\n[CLS]\n[SEP]\n[MASK]\n")
        XCTAssertThrowsError(try Vocabulary(contentsOf: noUnknown)) { error in
            XCTAssertEqual(error as? CheckpointError, .missingSpecialToken(file: noUnknown.path, token: "[UNK]"))
        }
        let empty = try write("")
        XCTAssertThrowsError(try Vocabulary(contentsOf: empty)) { error in
            XCTAssertEqual(error as? CheckpointError, .invalidVocabulary(file: empty.path, line: 1, reason: "no tokens"))
        }
        let binary = try write(Data((specials + "ok\n").utf8) + [0x5B, 0xFF, 0xFE, 0x0A])
        XCTAssertThrowsError(try Vocabulary(contentsOf: binary)) { error in
            XCTAssertEqual(error as? CheckpointError, .invalidVocabulary(file: binary.path, line: 7, reason: "not valid UTF-8"))
        }
        XCTAssertThrowsError(try Vocabulary(tokens: ["[PAD]", "[UNK]", "a\nb"])) { error in
            XCTAssertEqual(error as? CheckpointError, .invalidVocabulary(file: "<vocabulary>", line: 3, reason: "token contains a line break"))
        }
        let missing = URL(fileURLWithPath: "/nonexistent/vocab.txt")
        XCTAssertThrowsError(try Vocabulary(contentsOf: missing)) { error in
            guard case .unreadable(let file, _)? = error as? CheckpointError else {
                return XCTFail("expected .unreadable, got \(error)")
            }
            XCTAssertEqual(file, missing.path)
        }
    }
}
