import Checkpoint
import Foundation
import Kernels
import Model
import TestSupport
import XCTest

/// `ModelMemory` is what run estimates add up before a run: its figures must be the bytes the engine
/// really allocates for a forward of that shape (the activation arena, bf16/int8 weights and scratch,
/// the MLM head's buffers), read back from a model that ran one.
final class ModelMemoryTests: XCTestCase {
    private func batch(rows: Int, seqLen: Int) throws -> EncoderBatch {
        let tokens = rows * seqLen
        return try EncoderBatch(batch: rows, seqLen: seqLen, inputIds: (0..<tokens).map { Int32(5 + $0 % 50) },
                                tokenTypeIds: (0..<tokens).map { Int32($0 % seqLen >= 4 ? 1 : 0) },
                                attentionMask: (0..<tokens).map { $0 % seqLen < seqLen - 2 ? 1 : 0 })
    }

    func testWorkingBytesAreWhatASpanForwardAllocates() throws {
        for precision in [Precision.fp32, .bf16, .int8] {
            for training in [false, true] where !(training && precision == .int8) {
                for (rows, seqLen) in [(2, 12), (3, 24)] {
                    let model = try ModelDirectory.load(TestPaths.fixture("model/tiny_qa_model"), spanHead: .require).model
                    model.precision = precision
                    XCTAssertEqual(model.workingBytes, 0, "nothing before the first forward")
                    _ = try model.forward(try batch(rows: rows, seqLen: seqLen), dropoutSeed: training ? 3 : nil, forTraining: training)
                    let expected = ModelMemory.workingBytes(layout: model.layout, rows: rows, seqLen: seqLen, training: training,
                                                            precision: precision)
                    XCTAssertEqual(model.workingBytes, expected, "\(precision) training \(training) \(rows)×\(seqLen)")
                    XCTAssertGreaterThan(expected, 4 * rows * seqLen * model.config.hiddenSize * 2)
                }
            }
        }
    }

    func testWorkingBytesCountTheMLMHeadAndTheConvertedWeights() throws {
        let model = try ModelDirectory.load(TestPaths.fixture("model/tiny_mlm_model"), spanHead: .omit, mlmHead: .require).model
        model.precision = .bf16
        let positions: [Int32] = [1, 4, 7, 15, 20]
        _ = try model.forwardMLM(try batch(rows: 2, seqLen: 12), maskedPositions: positions, dropoutSeed: 1)
        XCTAssertEqual(model.workingBytes, ModelMemory.workingBytes(layout: model.layout, rows: 2, seqLen: 12, training: true,
                                                                    precision: .bf16, maskedPositions: positions.count))
        // bf16 copies: two bytes per element of the four matmul weights of each layer.
        let c = model.config.hiddenSize, i = model.config.intermediateSize
        XCTAssertEqual(ModelMemory.convertedWeightsBytes(layout: model.layout, precision: .bf16, training: true),
                       2 * model.config.numHiddenLayers * (4 * c * c + 2 * c * i))
        XCTAssertEqual(ModelMemory.convertedWeightsBytes(layout: model.layout, precision: .fp32, training: false), 0)
    }

    /// A shared arena is counted once: two members hold their converted weights and one arena.
    func testASharedArenaIsAllocatedOnce() throws {
        let members = try (0..<2).map { _ in try ModelDirectory.load(TestPaths.fixture("model/tiny_qa_model"), spanHead: .require).model }
        for member in members { member.precision = .bf16 }
        InferenceArena.share(among: members)
        for member in members { _ = try member.forward(try batch(rows: 2, seqLen: 16), forTraining: false) }
        let converted = ModelMemory.convertedWeightsBytes(layout: members[0].layout, precision: .bf16, training: false)
        let full = ModelMemory.workingBytes(layout: members[0].layout, rows: 2, seqLen: 16, training: false, precision: .bf16)
        XCTAssertEqual(members[0].workingBytes, full, "each member sees the arena and its own converted weights")
        XCTAssertEqual(members[1].workingBytes, full)
        XCTAssertGreaterThan(full - converted, converted, "the arena is the larger part here")
    }
}
