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
        // [CLS] who wrote it ? [SEP] it was written by shakespeare . [SEP]
        let batch = try EncoderBatch(batch: 1, seqLen: 13, inputIds: [101, 2040, 2626, 2009, 1029, 102, 2009, 2001, 2517, 2011, 5754, 1012, 102],
                                     tokenTypeIds: [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1])
        XCTAssertEqual(try reloaded.model.forward(batch), try student.forward(batch))
    }
}
