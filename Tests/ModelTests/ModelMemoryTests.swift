import Checkpoint
import Foundation
import Kernels
@testable import Model
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
        let full = ModelMemory.workingBytes(layout: members[0].layout, rows: 2, seqLen: 16, training: false, precision: .bf16)
        XCTAssertEqual(members[0].workingBytes, full, "each member sees the arena and its own converted weights")
        XCTAssertEqual(members[1].workingBytes, full)
        XCTAssertTrue(members[0].activations === members[1].activations)
        XCTAssertEqual(members[0].activations.allocations, 1, "one arena, allocated once for both")
    }

    /// A forward that captures layers runs the unfused ones, on the plain bf16 copies and two layer slots.
    func testACapturingForwardIsCountedWithItsSlotsAndPlainWeights() throws {
        let model = try ModelDirectory.load(TestPaths.fixture("model/tiny_qa_model"), spanHead: .require).model
        model.precision = .bf16
        let capture = try LayerCapture(config: model.config, hiddenLayers: [1], attentionLayers: [])
        try model.encode(try batch(rows: 3, seqLen: 24), capturing: capture)
        XCTAssertEqual(model.activations.kind, .inference)
        XCTAssertEqual(model.workingBytes, ModelMemory.workingBytes(layout: model.layout, rows: 3, seqLen: 24, training: false,
                                                                    precision: .bf16, capturing: true))
    }

    /// Static int8 counts its own weights (packed s8, the first layer's second feed-forward weight bf16, scaled biases,
    /// multipliers) and runs on the fused layers' arena.
    func testStaticInt8CountsItsWeightsAndTheFusedArena() throws {
        let load = { try ModelDirectory.load(TestPaths.fixture("model/tiny_qa_model"), spanHead: .require).model }
        // Calibration runs training forwards on its model's arena: measured on a twin.
        let model = try load()
        model.int8Calibration = try load().calibrateInt8(batches: [try batch(rows: 2, seqLen: 16)], source: "test")
        model.precision = .int8
        _ = try model.forward(try batch(rows: 3, seqLen: 24), forTraining: false)
        XCTAssertEqual(model.activations.kind, .fusedInference)
        XCTAssertEqual(model.workingBytes, ModelMemory.workingBytes(layout: model.layout, rows: 3, seqLen: 24, training: false,
                                                                    precision: .int8, staticInt8: true))
        XCTAssertEqual(ModelMemory.convertedWeightsBytes(layout: model.layout, precision: .int8, training: false, staticInt8: true),
                       StaticInt8Weights.bytes(layout: model.layout))
        // At least one byte per weight element; at most the element plus, where packed, oneDNN's padding.
        let c = model.config.hiddenSize, i = model.config.intermediateSize, layers = model.config.numHiddenLayers
        XCTAssertGreaterThanOrEqual(StaticInt8Weights.bytes(layout: model.layout), layers * (4 * c * c + 2 * c * i))
    }

    /// A fused bf16 inference forward keeps its residual stream in the embeddings' output and needs no layer slots: the
    /// arena is a few [N, C] buffers. A forward that needs more (the unfused layers, training) grows it once; the fused
    /// forward then runs on the larger arena with the same results, and the arena does not shrink back.
    func testTheFusedArenaIsCompactAndGrowsOnceForOtherForwards() throws {
        let model = try ModelDirectory.load(TestPaths.fixture("model/tiny_qa_model"), spanHead: .require).model
        model.precision = .bf16
        let input = try batch(rows: 3, seqLen: 24)
        let fused = try model.forward(input, forTraining: false)
        let hidden = model.lastHiddenState()
        let a = model.activations
        XCTAssertEqual(a.kind, .fusedInference)
        XCTAssertEqual(a.layers.count, 0)
        let dims = a.dimensions, tokens = 3 * 24
        let compact = Activations.floats(dims, tokens: tokens, probs: 0, kind: .fusedInference)
        let twoSlots = Activations.floats(dims, tokens: tokens, probs: 0, kind: .inference)
        let slot = 8 * tokens * dims.channels + 2 * tokens * dims.intermediate + 4 * tokens
        XCTAssertEqual(twoSlots - compact, Activations.slots(dims, kind: .inference) * slot - (4 * tokens + tokens * dims.channels),
                       "the slots against the statistics and one scratch")
        func arena(capturing: Bool) -> Int {
            ModelMemory.workingBytes(layout: model.layout, rows: 3, seqLen: 24, training: false, precision: .bf16, capturing: capturing)
                - ModelMemory.convertedWeightsBytes(layout: model.layout, precision: .bf16, training: false, capturing: capturing)
        }
        XCTAssertEqual(arena(capturing: true) - arena(capturing: false), 4 * (twoSlots - compact),
                       "the unfused layers' forward (a capture) is counted with its slots")

        let twin = try ModelDirectory.load(TestPaths.fixture("model/tiny_qa_model"), spanHead: .require).model
        twin.precision = .bf16
        twin.fusedInference = false
        model.fusedInference = false
        XCTAssertEqual(try model.forward(input, forTraining: false), try twin.forward(input, forTraining: false),
                       "the unfused layers read their own output after a fused forward")
        XCTAssertEqual(a.kind, .inference)
        XCTAssertEqual(a.allocations, 2)
        model.fusedInference = true
        let again = try model.forward(input, forTraining: false)
        XCTAssertEqual(a.kind, .inference, "the arena does not shrink")
        XCTAssertEqual(a.allocations, 2)
        XCTAssertEqual(again.start, fused.start)
        XCTAssertEqual(again.end, fused.end)
        XCTAssertEqual(model.lastHiddenState(), hidden)

        XCTAssertEqual(try model.forward(input, dropoutSeed: 1, forTraining: true),
                       try twin.forward(input, dropoutSeed: 1, forTraining: true))
        XCTAssertEqual(model.lastHiddenState(), twin.lastHiddenState())
        XCTAssertEqual(a.kind, .training)
        let afterTraining = try model.forward(input, forTraining: false)
        XCTAssertEqual(afterTraining.start, fused.start, "fused inference on a training arena")
        XCTAssertEqual(model.lastHiddenState(), hidden)
        XCTAssertEqual(a.allocations, 3)
    }
}
