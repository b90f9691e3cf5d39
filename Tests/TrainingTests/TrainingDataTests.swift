import Foundation
import MRC
import TestSupport
import Text
import XCTest
@testable import Training

final class TrainingDataTests: XCTestCase {
    func tokenizer() throws -> WordPieceTokenizer {
        try WordPieceTokenizer(vocabFile: TestPaths.fixture("training/tiny_qa_parity/vocab.txt"))
    }

    func testWindowsKeepRealTokensAndLabels() throws {
        let settings = WindowSettings(maxSeqLen: 32, docStride: 8, maxQueryLen: 8)
        let file = TestPaths.fixture("training/tiny_squad.json")
        let data = try TrainingData.load(files: [file], tokenizer: try tokenizer(), settings: settings)
        let reference = try WindowBuilder(tokenizer: try tokenizer(), settings: settings)
            .windows(for: try MRCReader.read(file).examples).windows
        XCTAssertEqual(data.examples, 72)
        XCTAssertEqual(data.windows.count, reference.count)
        XCTAssertEqual(data.unlabelledWindows, 0)
        for (window, original) in zip(data.windows, reference) {
            XCTAssertEqual(window.inputIds, Array(original.inputIds[0..<original.length]), "padding is dropped")
            XCTAssertEqual(window.tokenTypeIds, Array(original.tokenTypeIds[0..<original.length]))
            XCTAssertEqual(Int(window.startPosition), original.startPosition)
            XCTAssertEqual(Int(window.endPosition), original.endPosition)
        }
        // Some windows hold the answer, others point at [CLS], as BERT trains.
        XCTAssertTrue(data.windows.contains { $0.startPosition > 0 })
        XCTAssertTrue(data.windows.contains { $0.startPosition == 0 && $0.endPosition == 0 })
    }

    func testUnlabelledQuestionsAreLeftOutAndCounted() throws {
        // The second question's answer is not where answer_start says: the reader drops the span, so
        // the question has no label and must not be trained on as "no answer".
        let json = """
            {"version": "1.1", "data": [{"title": "t", "paragraphs": [{"context": "w5 w6 w7 w8 w9",
             "qas": [{"id": "a", "question": "w1 w2", "answers": [{"text": "w6 w7", "answer_start": 3}]},
                     {"id": "b", "question": "w1 w3", "answers": [{"text": "w40", "answer_start": 0}]}]}]}]}
            """
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("unlabelled-\(UUID().uuidString).json")
        try Data(json.utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let data = try TrainingData.load(files: [url], tokenizer: try tokenizer(),
                                         settings: WindowSettings(maxSeqLen: 32, docStride: 8, maxQueryLen: 8))
        XCTAssertEqual(data.examples, 2)
        XCTAssertEqual(data.windows.count, 1)
        XCTAssertEqual(data.unlabelledWindows, 1)
        XCTAssertEqual(data.windows[0].startPosition, 5, "[CLS] w1 w2 [SEP] w5 w6: the answer starts at position 5")
        XCTAssertEqual(data.windows[0].endPosition, 6)
    }
}
