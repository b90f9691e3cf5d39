import Checkpoint
import Foundation
import Kernels
import Model
import TestSupport
import XCTest

/// Models of one shape sharing an `InferenceArena` (an ensemble in `serve` or `predict`) must give, forward
/// after forward in any interleaving, exactly the logits each gives on its own buffers.
final class InferenceArenaTests: XCTestCase {
    private func tinyModel(perturbed: Bool) throws -> BertModel {
        let model = try ModelDirectory.load(TestPaths.fixture("model/tiny_qa_model"), spanHead: .require).model
        if perturbed {
            // Another member: every weight moved, so a member reading the other's leftovers would show.
            let buffer = model.parameters.pointer
            for i in 0..<model.parameters.count { buffer[i] = buffer[i] * 0.9 + Float(i % 7) * 1e-3 }
            model.parametersDidChange()
        }
        return model
    }

    private func batches() throws -> [EncoderBatch] {
        let fixture = try SafeTensorsFile(contentsOf: TestPaths.fixture("model/tiny_qa.safetensors"))
        let seqLen = 16
        let long = try EncoderBatch(batch: 3, seqLen: seqLen, inputIds: (0..<3 * seqLen).map { Int32(5 + ($0 * 7) % 50) },
                                    tokenTypeIds: (0..<3 * seqLen).map { Int32($0 % seqLen >= 6 ? 1 : 0) },
                                    attentionMask: (0..<3 * seqLen).map { $0 % seqLen < 13 ? 1 : 0 })
        return [try fixtureBatch(fixture), long]
    }

    /// Also with a fused bf16 member (output left in the residual stream, no layer slots) beside an fp32 one (the
    /// unfused layers, output in a slot), in either order.
    func testSharedArenaGivesEachMemberItsOwnLogits() throws {
        for precisions: [Precision] in [[.fp32, .fp32], [.bf16, .bf16], [.bf16, .fp32], [.fp32, .bf16]] {
            let precision = precisions.map(\.rawValue).joined(separator: "+")
            let shared = [try tinyModel(perturbed: false), try tinyModel(perturbed: true)]
            let alone = [try tinyModel(perturbed: false), try tinyModel(perturbed: true)]
            for (i, model) in (shared + alone).enumerated() { model.precision = precisions[i % 2] }
            let arenas = InferenceArena.share(among: shared)
            XCTAssertEqual(arenas.count, 1, "two models of one shape share one arena")
            XCTAssertTrue(shared.allSatisfy(\.sharesInferenceArena))
            // Small batch, big batch (the arena grows), small again, members interleaved.
            for batch in try batches() + batches().reversed() {
                for (member, reference) in zip(shared, alone) {
                    let expected = try reference.forward(batch, forTraining: false)
                    XCTAssertEqual(try member.forward(batch, forTraining: false), expected, "\(precision)")
                }
            }
            XCTAssertNotEqual(try shared[0].forward(batches()[0], forTraining: false),
                              try shared[1].forward(batches()[0], forTraining: false), "the members differ")
        }
    }

    func testModelsOfAnotherShapeGetTheirOwnArenaAndTrainingIsRefused() throws {
        let model = try tinyModel(perturbed: false)
        var config = model.config
        config.numHiddenLayers += 1
        let deeper = BertModel(config: config, heads: model.heads)
        let arenas = InferenceArena.share(among: [model, deeper, try tinyModel(perturbed: true)])
        XCTAssertEqual(arenas.count, 2)
        XCTAssertTrue(arenas[0].fits(model.config) && !arenas[0].fits(config))
        let batch = try batches()[0]
        XCTAssertThrowsError(try model.forward(batch)) { error in
            XCTAssertTrue("\(error)".contains("shared inference arena"), "\(error)")
        }
        XCTAssertThrowsError(try model.forward(batch, dropoutSeed: 1))
        XCTAssertNoThrow(try model.forward(batch, forTraining: false))
    }
}
