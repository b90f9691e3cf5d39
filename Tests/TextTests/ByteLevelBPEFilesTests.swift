import Checkpoint
import Foundation
import TestSupport
import XCTest
@testable import Text

/// vocab.json and merges.txt: read as `tokenizers` writes them, written byte for byte as it does, and
/// every malformed file refused with an error that names the file and the line.
final class ByteLevelBPEFilesTests: XCTestCase {
    private var vocabURL: URL { ByteLevelBPEParityTests.directory.appendingPathComponent("vocab.json") }
    private var mergesURL: URL { ByteLevelBPEParityTests.directory.appendingPathComponent("merges.txt") }

    func testReadsWhatTokenizersWrites() throws {
        let vocabulary = try Vocabulary(jsonContentsOf: vocabURL)
        XCTAssertEqual(vocabulary.count, 4000)
        XCTAssertEqual([vocabulary.clsId, vocabulary.padId, vocabulary.sepId, vocabulary.unkId, vocabulary.maskId], [0, 1, 2, 3, 4])
        XCTAssertEqual(vocabulary.token(for: 5), "!")
        let merges = try BPEMerges(contentsOf: mergesURL)
        XCTAssertEqual(merges.merges.first, BPEMerge("Ġ", "t"))
        XCTAssertEqual(merges.lines.first, 2, "line 1 is #version")
        // save_model's files are what the writers give: Hugging Face reads them back.
        XCTAssertEqual(vocabulary.jsonData, try Data(contentsOf: vocabURL))
        XCTAssertEqual(merges.textData, try Data(contentsOf: mergesURL))
    }

    func testWriteReadRoundTrip() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bpe-files-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let tokens = ["<s>", "<pad>", "</s>", "<unk>", "<mask>", "quote\"back\\slash", "tab\tcontrol\u{1}", "ĠÃ©", "😀", "/"]
        let vocabulary = try Vocabulary(tokens: tokens, specials: .roberta)
        let merges = try BPEMerges([BPEMerge("Ġ", "Ã©"), BPEMerge("a", "b")])
        try vocabulary.writeJSON(to: directory.appendingPathComponent("vocab.json"))
        try merges.write(to: directory.appendingPathComponent("merges.txt"))
        XCTAssertEqual(try Vocabulary(jsonContentsOf: directory.appendingPathComponent("vocab.json")).tokens, tokens)
        let read = try BPEMerges(contentsOf: directory.appendingPathComponent("merges.txt"))
        XCTAssertEqual(read, merges)
        XCTAssertEqual(read.lines, [2, 3])
        XCTAssertEqual(merges.contentHash, read.contentHash)
    }

    private func vocabularyError(_ json: String, specials: SpecialTokens = .roberta) -> String {
        do {
            _ = try Vocabulary(jsonData: Data(json.utf8), source: "v.json", specials: specials)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    private let specials = "\"<s>\": 0,\n\"<pad>\": 1,\n\"</s>\": 2,\n\"<unk>\": 3,\n\"<mask>\": 4"

    func testVocabularyErrorsNameFileAndLine() {
        XCTAssertEqual(vocabularyError("{\(specials),\n\"a\": 5\n}"), "no error")
        XCTAssertTrue(vocabularyError("{\(specials),\n\"a\" 5\n}").hasPrefix("v.json: line 6: not valid JSON: column 5"),
                      vocabularyError("{\(specials),\n\"a\" 5\n}"))
        XCTAssertEqual(vocabularyError("{\(specials),\n\"a\": 6\n}"),
                       "v.json: line 6: id 6 of \"a\" is out of range: 6 tokens need the ids 0..<6 (id 5 is missing)")
        XCTAssertEqual(vocabularyError("{\(specials),\n\"a\": 5,\n\"a\": 6\n}"),
                       "v.json: line 7: token \"a\" repeats line 6 (ids would be ambiguous)")
        XCTAssertEqual(vocabularyError("{\(specials),\n\"a\": 5,\n\"b\": 5,\n\"c\": 7\n}"),
                       "v.json: line 7: id 5 of \"b\" repeats line 6")
        XCTAssertEqual(vocabularyError("{\(specials),\n\"a\": 5.0\n}"),
                       "v.json: line 6: the id of \"a\" is not a non-negative integer")
        XCTAssertEqual(vocabularyError("{\(specials),\n\"a\": \"5\"\n}"),
                       "v.json: line 6: the id of \"a\" is not a non-negative integer")
        XCTAssertEqual(vocabularyError("[\"a\"]"), "v.json: line 1: a vocab.json must be one object from token to id")
        XCTAssertEqual(vocabularyError("{\"<s>\": 0}"), "v.json: the vocabulary lacks the special token <pad>")
        XCTAssertEqual(vocabularyError("{}"), "v.json: line 1: no tokens")
        XCTAssertEqual(vocabularyError("{\(specials),\n\"a\\nb\": 5\n}"), "v.json: line 6: token \"a\\nb\" contains a line break")
        XCTAssertTrue(vocabularyError("{\(specials),\n\"a\\ud800\": 5}").hasPrefix("v.json: line 6: not valid JSON"))
    }

    private func mergesError(_ text: String) -> String {
        do {
            _ = try BPEMerges(data: Data(text.utf8), source: "m.txt")
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    func testMergesErrorsNameFileAndLine() throws {
        XCTAssertEqual(mergesError("#version: 0.2\na b\r\nab c\n"), "no error")
        XCTAssertEqual(try BPEMerges(data: Data("a b\nab c".utf8), source: "m").merges, [BPEMerge("a", "b"), BPEMerge("ab", "c")])
        XCTAssertEqual(mergesError("#version: 0.2\na b\nabc\n"),
                       "m.txt: line 3: expected two tokens separated by one space, found \"abc\"")
        XCTAssertEqual(mergesError("#version: 0.2\na b\n\nc d\n"),
                       "m.txt: line 3: expected two tokens separated by one space, found \"\"")
        XCTAssertEqual(mergesError("a b c\n"), "m.txt: line 1: expected two tokens separated by one space, found \"a b c\"")
        XCTAssertEqual(mergesError("a  b\n"), "m.txt: line 1: expected two tokens separated by one space, found \"a  b\"")
        XCTAssertEqual(mergesError("#version: 0.2\na b\nc d\na b\n"), "m.txt: line 4: merge 'a b' repeats line 2 (its rank would be ambiguous)")
        var bytes = Data("#version: 0.2\na b\n".utf8)
        bytes.append(contentsOf: [0x63, 0x20, 0xFF, 0x0A])
        XCTAssertThrowsError(try BPEMerges(data: bytes, source: "m.txt")) {
            XCTAssertEqual("\($0)", "m.txt: line 3: not valid UTF-8")
        }
        XCTAssertThrowsError(try BPEMerges([BPEMerge("a b", "c")])) {
            XCTAssertEqual("\($0)", "<merges>: line 2: merge token \"a b\" is empty or holds a space or a line break")
        }
    }

    func testTokenizerRefusesMergesOutsideTheVocabulary() throws {
        let vocabulary = try Vocabulary(jsonContentsOf: vocabURL)
        let merges = try BPEMerges(data: Data("#version: 0.2\nĠ t\nĠt Āq\n".utf8), source: "m.txt")
        XCTAssertThrowsError(try ByteLevelBPETokenizer(vocabulary: vocabulary, merges: merges)) {
            XCTAssertEqual("\($0)", "m.txt: line 3: merge 'Ġt Āq': \"Āq\" is not in the vocabulary")
        }
        let unmerged = try BPEMerges(data: Data("Ā Ā\n".utf8), source: "m.txt")
        XCTAssertThrowsError(try ByteLevelBPETokenizer(vocabulary: vocabulary, merges: unmerged)) {
            XCTAssertEqual("\($0)", "m.txt: line 1: merge 'Ā Ā': \"ĀĀ\" is not in the vocabulary")
        }
        let small = try Vocabulary(tokens: ["<s>", "<pad>", "</s>", "<unk>", "<mask>", "a"], specials: .roberta)
        XCTAssertThrowsError(try ByteLevelBPETokenizer(vocabulary: small, merges: BPEMerges([]))) {
            XCTAssertTrue("\($0)".hasPrefix("the vocabulary lacks the byte-level tokens Ā ā"), "\($0)")
        }
    }
}
