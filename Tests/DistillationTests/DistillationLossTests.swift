import Distillation
import Foundation
@testable import Model
import TestSupport
import XCTest

/// The span distillation loss against PyTorch (fixtures/distillation/kd_loss.json and kd_loss_transfer.json,
/// made by scripts/fixtures/make_kd_fixtures.py): hard + soft terms, temperature with and without T²,
/// padding masked, a row without soft label, a black-box-like row with zero-probability tokens, transfer
/// rows without gold (`ignore_index`).
final class DistillationLossTests: XCTestCase {
    struct Fixture {
        let json: [String: Any]
        func ints(_ key: String) -> [Int32] { (json[key] as! [NSNumber]).map { $0.int32Value } }
        func floats(_ key: String) -> [Float] { (json[key] as! [NSNumber]).map { $0.floatValue } }
    }

    func testLossAndGradientsMatchPyTorch() throws {
        try checkAgainstPyTorch("distillation/kd_loss.json")
    }

    /// Transfer rows (gold −1) add no hard loss and the hard mean is over the gold rows, as PyTorch's
    /// `cross_entropy(ignore_index=-1)`; a transfer row without a soft label gets no gradient at all.
    func testTransferRowsMatchPyTorch() throws {
        try checkAgainstPyTorch("distillation/kd_loss_transfer.json")
    }

    func checkAgainstPyTorch(_ path: String) throws {
        let data = try Data(contentsOf: TestPaths.fixture(path))
        let fixture = Fixture(json: try JSONSerialization.jsonObject(with: data) as! [String: Any])
        let B = fixture.json["batch"] as! Int, T = fixture.json["seq_len"] as! Int
        let logits = SpanLogits(batch: B, seqLen: T, start: fixture.floats("student_start"), end: fixture.floats("student_end"))
        let hasSoft = (fixture.json["has_soft_label"] as! [Bool])
        for case let c as [String: Any] in fixture.json["cases"] as! [Any] {
            let loss = DistillationLoss(hardWeight: (c["a_hard"] as! NSNumber).floatValue,
                                        softWeight: (c["a_soft"] as! NSNumber).floatValue,
                                        temperature: (c["temperature"] as! NSNumber).floatValue,
                                        scaleByTemperatureSquared: c["squared"] as! Bool)
            let result = try loss.compute(logits, attentionMask: fixture.ints("attention_mask"),
                                          startPositions: fixture.ints("start_positions"), endPositions: fixture.ints("end_positions"),
                                          teacherStart: fixture.floats("teacher_start"), teacherEnd: fixture.floats("teacher_end"),
                                          hasSoftLabel: hasSoft)
            let label = "\(path) case \(c["a_hard"]!)/\(c["a_soft"]!) T=\(c["temperature"]!) squared=\(c["squared"]!)"
            // Single-precision sums of at most 2·9 terms of size ≤ 10: a few ulps of 10 ≈ 1e-5 relative.
            for (name, ours, theirs) in [("total", result.total, c["total"]), ("hard", result.hard, c["hard"]),
                                         ("soft", result.soft, c["soft"])] {
                let reference = (theirs as! NSNumber).floatValue
                XCTAssertEqual(ours, reference, accuracy: 1e-5 * max(1, abs(reference)), "\(label): \(name)")
            }
            for (name, ours, key) in [("start", result.dStartLogits, "d_start"), ("end", result.dEndLogits, "d_end")] {
                let reference = (c[key] as! [NSNumber]).map(\.floatValue)
                let scale = reference.map(abs).max()!
                for i in reference.indices {
                    XCTAssertEqual(ours[i], reference[i], accuracy: 1e-6 * max(1, scale), "\(label): d\(name)[\(i)]")
                }
            }
        }
    }

    /// A student equal to the teacher has zero KL and zero soft gradient; the soft term alone then
    /// leaves the gradient to the hard term.
    func testSoftTermVanishesWhenStudentMatchesTeacher() throws {
        let start: [Float] = [0.5, 2, -1, 3, 0], end: [Float] = [1, -2, 0.25, 0.5, 0]
        let mask: [Int32] = [1, 1, 1, 1, 0]
        let logits = SpanLogits(batch: 1, seqLen: 5, start: start, end: end)
        let loss = DistillationLoss(hardWeight: 0, softWeight: 1, temperature: 2, scaleByTemperatureSquared: true)
        let result = try loss.compute(logits, attentionMask: mask, startPositions: [3], endPositions: [3],
                                      teacherStart: start, teacherEnd: end, hasSoftLabel: [true])
        XCTAssertEqual(result.soft, 0, accuracy: 1e-6)
        XCTAssertEqual(result.total, 0, accuracy: 1e-6)
        for g in result.dStartLogits + result.dEndLogits { XCTAssertEqual(g, 0, accuracy: 1e-7) }
    }

    /// Rows without a soft label contribute neither soft loss nor soft gradient: the result equals the
    /// hard loss alone.
    func testRowsWithoutSoftLabelTrainOnGoldOnly() throws {
        let logits = SpanLogits(batch: 2, seqLen: 4, start: [1, 2, 3, 4, 4, 3, 2, 1], end: [0, 1, 0, 1, 1, 0, 1, 0])
        let mask: [Int32] = [1, 1, 1, 1, 1, 1, 1, 0]
        let loss = DistillationLoss(hardWeight: 0.5, softWeight: 0.5, temperature: 2)
        let result = try loss.compute(logits, attentionMask: mask, startPositions: [1, 2], endPositions: [2, 2],
                                      teacherStart: [Float](repeating: 7, count: 8), teacherEnd: [Float](repeating: -3, count: 8),
                                      hasSoftLabel: [false, false])
        let hard = try SpanLoss.compute(logits, attentionMask: mask, startPositions: [1, 2], endPositions: [2, 2], scale: 0.5)
        XCTAssertEqual(result.total, hard.loss, accuracy: 1e-6)
        XCTAssertEqual(result.soft, 0)
        for (a, b) in zip(result.dStartLogits, hard.dStartLogits) { XCTAssertEqual(a, b, accuracy: 1e-7) }
        for (a, b) in zip(result.dEndLogits, hard.dEndLogits) { XCTAssertEqual(a, b, accuracy: 1e-7) }
    }

    /// A batch of transfer rows only: no hard term (0, not PyTorch's NaN mean over no rows), the soft term
    /// alone; a row given −1 for one side only is refused.
    func testBatchWithoutGoldTrainsOnSoftLabelsAlone() throws {
        let logits = SpanLogits(batch: 2, seqLen: 4, start: [1, 2, 3, 4, 4, 3, 2, 1], end: [0, 1, 0, 1, 1, 0, 1, 0])
        let mask: [Int32] = [1, 1, 1, 1, 1, 1, 1, 0]
        let teacherStart: [Float] = [0, 3, 1, -1, 2, 2, 0, 0], teacherEnd: [Float] = [1, 0, 2, 0, -1, 0, 3, 0]
        let ignored = SpanLoss.ignoredPosition
        let both = try DistillationLoss(hardWeight: 0.5, softWeight: 0.5, temperature: 2)
            .compute(logits, attentionMask: mask, startPositions: [ignored, ignored], endPositions: [ignored, ignored],
                     teacherStart: teacherStart, teacherEnd: teacherEnd, hasSoftLabel: [true, true])
        let softOnly = try DistillationLoss(hardWeight: 0, softWeight: 0.5, temperature: 2)
            .compute(logits, attentionMask: mask, startPositions: [1, 2], endPositions: [2, 2],
                     teacherStart: teacherStart, teacherEnd: teacherEnd, hasSoftLabel: [true, true])
        XCTAssertEqual(both.hard, 0)
        XCTAssertGreaterThan(both.soft, 0)
        XCTAssertEqual(both.total, softOnly.total)
        XCTAssertEqual(both.dStartLogits, softOnly.dStartLogits)
        XCTAssertEqual(both.dEndLogits, softOnly.dEndLogits)
        XCTAssertThrowsError(try SpanLoss.compute(logits, attentionMask: mask, startPositions: [ignored, 1], endPositions: [2, 2])) {
            XCTAssertTrue("\($0)".contains("both positions -1"), "\($0)")
        }
    }
}
