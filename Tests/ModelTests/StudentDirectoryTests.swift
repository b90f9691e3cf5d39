import Checkpoint
import Foundation
import Model
import TestSupport
import XCTest

/// A student made from the real all-MiniLM-L6-v2 (layers 0, 2, 4 and a new span head), saved as a Hugging
/// Face directory and loaded back. Set MRC_KEEP_STUDENT_DIR to keep the directory (for
/// scripts/check_hf_load.py, which loads it with transformers).
final class StudentDirectoryTests: XCTestCase {
    func testSavedStudentLoadsBackIdentically() throws {
        let teacher = try ModelDirectory.load(TestPaths.miniLMDirectory, spanHead: .initialiseIfMissing(seed: 2019))
        XCTAssertEqual(teacher.initialised, ["qa_outputs.weight", "qa_outputs.bias"])
        let student = try teacher.model.selectingLayers([0, 2, 4])
        XCTAssertEqual(student.config.numHiddenLayers, 3)
        XCTAssertEqual(student.parameters.values("bert.encoder.layer.2.output.dense.weight"),
                       teacher.model.parameters.values("bert.encoder.layer.4.output.dense.weight"))

        let keep = ProcessInfo.processInfo.environment["MRC_KEEP_STUDENT_DIR"].flatMap { $0.isEmpty ? nil : $0 }
        let directory = keep.map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("student-\(UUID())")
        defer { if keep == nil { try? FileManager.default.removeItem(at: directory) } }
        try ModelDirectory.save(student, vocabulary: teacher.vocabulary!, doLowerCase: teacher.doLowerCase ?? true, to: directory)

        let reloaded = try ModelDirectory.load(directory, spanHead: .require)
        XCTAssertEqual(reloaded.initialised, [])
        XCTAssertEqual(reloaded.model.config.numHiddenLayers, 3)
        XCTAssertEqual(Array(reloaded.model.parameters.buffer), Array(student.parameters.buffer))
        let batch = try EncoderBatch.questionContextPair(questionIds: [2040, 2626, 2009, 1029], contextIds: [2009, 2001, 2517, 2011, 5754, 1012],
                                                         clsId: 101, sepId: 102, maxSeqLen: 384)
        XCTAssertEqual(try reloaded.model.forward(batch), try student.forward(batch))
    }

    func testQuestionContextPairTruncatesTheContext() throws {
        let batch = try EncoderBatch.questionContextPair(questionIds: [7, 8], contextIds: [20, 21, 22, 23, 24], clsId: 1, sepId: 2, maxSeqLen: 8)
        XCTAssertEqual(batch.inputIds, [1, 7, 8, 2, 20, 21, 22, 2])
        XCTAssertEqual(batch.tokenTypeIds, [0, 0, 0, 0, 1, 1, 1, 1])
        XCTAssertEqual(batch.attentionMask, [Int32](repeating: 1, count: 8))
        XCTAssertThrowsError(try EncoderBatch.questionContextPair(questionIds: [7, 8, 9, 10, 11], contextIds: [20], clsId: 1, sepId: 2, maxSeqLen: 8))
    }
}
