import Checkpoint
import Distillation
import Foundation
import FuzzTargets
import MRC
import TestSupport
import Text
import XCTest

/// What fuzzing found, pinned: each input is committed under fuzz/regressions/TARGET and replayed by
/// FuzzCorpusReplayTests; here the behaviour after the fix is asserted exactly.
final class FuzzFindingsTests: XCTestCase {
    static let regressions = FuzzCorpusReplayTests.root.appendingPathComponent("regressions")

    /// Found by RoundTripPropertyTests: Foundation's JSONSerialization dropped a raw U+FEFF at the start of a
    /// string and after an escape, so the context lost characters and every answer offset after them pointed
    /// at other text (here "cd" at 5 read as "d" + beyond). FoundationJSON escapes them first.
    func testByteOrderMarksInsideStringsAreKept() throws {
        let squad = try SQuADReader.read(Self.regressions.appendingPathComponent("squad/byte-order-mark-in-context.json"))
        let mrqa = try MRQAReader.read(Self.regressions.appendingPathComponent("mrqa/byte-order-mark-in-context.jsonl"))
        for (example, escaped) in [(squad.examples[0], UInt32(0x09)), (mrqa.examples[0], 0x0A)] {
            XCTAssertEqual(example.context.scalars.map(\.value), [0xFEFF, 0x61, 0x62, escaped, 0xFEFF, 0x63, 0x64])
            XCTAssertEqual(example.answerSpans.map(\.characters), [5..<7])
            XCTAssertEqual(example.context.slice(example.answerSpans[0].characters), "cd")
        }
        XCTAssertEqual(squad.report.skipped.count, 0)
    }

    /// Found by libFuzzer (LeakSanitizer, targets mlm-corpus and gzip): reading an empty file with Foundation's
    /// `Data(contentsOf:)` leaked its 4 KB buffer. Data files are now read with POSIX reads (`FileSource`); an empty
    /// file is refused or read as empty, naming the file.
    func testEmptyFilesAreReadWithoutFoundationAndRefusedByName() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mrc-empty-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let empty = try Data(contentsOf: Self.regressions.appendingPathComponent("mlm-corpus/empty-file"))
        XCTAssertEqual(empty.count, 0)
        for name in ["empty.jsonl", "empty.jsonl.gz"] {
            let url = directory.appendingPathComponent(name)
            try empty.write(to: url)
            let dataset = try MRCReader.read(url, strict: true)
            XCTAssertEqual(dataset.examples.count, 0)
        }
        let squad = directory.appendingPathComponent("empty.json")
        try empty.write(to: squad)
        XCTAssertThrowsError(try MRCReader.read(squad)) { error in
            XCTAssertTrue("\(error)".hasPrefix(squad.path + ": not valid JSON at line 1, column 1"), "\(error)")
        }
        let tokenizer = WordPieceTokenizer(vocabulary: try Vocabulary(contentsOf: TestPaths.fixture("model/tiny_qa_model/vocab.txt")))
        for name in ["empty.txt", "empty.jsonl"] {
            let corpus = directory.appendingPathComponent(name)
            try empty.write(to: corpus)
            XCTAssertThrowsError(try MLMCorpus.load(files: [corpus], tokenizer: tokenizer, maxSeqLen: 64)) { error in
                XCTAssertEqual("\(error)", "invalid argument: --mlm-text \(corpus.path): no text")
            }
        }
    }
}
