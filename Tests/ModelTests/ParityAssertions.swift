import Checkpoint
import Foundation
import Model
import TestSupport
import XCTest

/// Largest absolute difference between two equally long arrays.
func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "comparing \(a.count) values with \(b.count)")
    return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

/// Checks every gradient of `model` against the fixture's `grad.<name>` tensors, and that the fixture has
/// no gradient the model lacks. Metric: max |ours − PyTorch| / max |PyTorch| over each tensor ≤ 1e-4 —
/// relative to the tensor's largest gradient, so that near-zero entries (e.g. rows of unused tokens) do
/// not need a meaningless elementwise relative precision.
///
/// Some gradients are zero in exact arithmetic: the key bias (adding q·b to every score of a row leaves
/// the softmax unchanged), the span head bias and the bias of the last LayerNorm feeding it (a constant
/// added to every logit leaves the softmax unchanged). PyTorch's values for those are float rounding noise
/// (~1e-8 where other gradients are ~0.1-1); for them both sides must be at that noise level:
/// max |gradient| ≤ 1e-6 × the largest gradient of the model.
/// `naming` gives the fixture's name of a parameter (`CheckpointNames.fileName` for another architecture).
func assertGradientsMatch(_ model: BertModel, fixture: SafeTensorsFile, tolerance: Float = 1e-4,
                          naming: (String) -> String = { $0 }, file: StaticString = #filePath, line: UInt = #line) throws {
    let names = Set(model.layout.entries.map { naming($0.name) })
    let fixtureNames = Set(fixture.tensors.keys.filter { $0.hasPrefix("grad.") }.map { String($0.dropFirst(5)) })
    XCTAssertEqual(names, fixtureNames, "the model's parameters and the fixture's gradients differ", file: file, line: line)
    let expectedByName = try Dictionary(uniqueKeysWithValues: model.layout.entries.map {
        ($0.name, try fixture.floats("grad." + naming($0.name)))
    })
    let globalScale = expectedByName.values.reduce(Float(0)) { max($0, $1.reduce(0) { max($0, abs($1)) }) }
    let zeroLevel = 1e-6 * globalScale
    var structurallyZero = 0
    for entry in model.layout.entries {
        let expected = expectedByName[entry.name]!
        let actual = model.gradients.values(entry.name)
        let scale = expected.reduce(0) { max($0, abs($1)) }
        if scale <= zeroLevel {
            structurallyZero += 1
            let ours = actual.reduce(0) { max($0, abs($1)) }
            XCTAssertLessThanOrEqual(ours, zeroLevel, "\(entry.name): PyTorch's gradient is zero up to rounding, ours is not",
                                     file: file, line: line)
            continue
        }
        let error = maxAbsDifference(actual, expected) / scale
        XCTAssertLessThanOrEqual(error, tolerance, "\(entry.name): relative gradient error \(error)", file: file, line: line)
    }
    XCTAssertLessThanOrEqual(structurallyZero, 4, "too many all-zero gradients: the fixture does not exercise the model", file: file, line: line)
}

/// The batch stored in a fixture (input_ids, token_type_ids, attention_mask, all [B, T]).
func fixtureBatch(_ fixture: SafeTensorsFile) throws -> EncoderBatch {
    let shape = try fixture.info("input_ids").shape
    return try EncoderBatch(batch: shape[0], seqLen: shape[1], inputIds: try fixture.int32s("input_ids"),
                            tokenTypeIds: try fixture.int32s("token_type_ids"), attentionMask: try fixture.int32s("attention_mask"))
}

/// Holds a low-precision `ours` to PyTorch's own scheme (`pytorch`) in its deviation from `fp32`: at least as close
/// in the largest and in the mean absolute difference; prints both.
func assertAsCloseAsPyTorch(_ ours: [Float], fp32: [Float], pytorch: [Float], _ what: String,
                            file: StaticString = #filePath, line: UInt = #line) {
    func mean(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).reduce(0) { $0 + abs($1.0 - $1.1) } / Float(a.count) }
    let (allowedMax, allowedMean) = (maxAbsDifference(pytorch, fp32), mean(pytorch, fp32))
    let (maxError, meanError) = (maxAbsDifference(ours, fp32), mean(ours, fp32))
    XCTAssertLessThanOrEqual(maxError, allowedMax, "\(what): max |ours − fp32| vs PyTorch's", file: file, line: line)
    XCTAssertLessThanOrEqual(meanError, allowedMean, "\(what): mean |ours − fp32| vs PyTorch's", file: file, line: line)
    print("\(what): max \(maxError) mean \(meanError); PyTorch max \(allowedMax) mean \(allowedMean)")
}
