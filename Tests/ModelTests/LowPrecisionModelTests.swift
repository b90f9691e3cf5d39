import Checkpoint
import Foundation
import Kernels
import Model
import TestSupport
import XCTest

/// all-MiniLM-L6-v2 on real SQuAD pairs (the inputs of minilm_hidden.safetensors) in bf16 and int8,
/// against fp32 PyTorch. The tolerance is PyTorch's own deviation from fp32 with its low-precision
/// scheme on the same inputs (fixtures/model/minilm_low_precision.safetensors: bf16 autocast, dynamic
/// int8): ours must be at least as close, in the largest and in the mean absolute difference. Both
/// backends (oneDNN and the reference) are held to it.
final class LowPrecisionModelTests: XCTestCase {
    private func hidden(_ precision: Precision, backend: LowPrecisionBackend, fused: Bool = true) throws -> [Float] {
        let saved = LowPrecision.backend
        defer { LowPrecision.backend = saved }
        LowPrecision.backend = backend
        let loaded = try ModelDirectory.load(TestPaths.miniLMDirectory, spanHead: .ifPresent)
        loaded.model.precision = precision
        loaded.model.fusedInference = fused
        let fixture = try SafeTensorsFile(contentsOf: TestPaths.fixture("model/minilm_hidden.safetensors"))
        try loaded.model.encode(try fixtureBatch(fixture), forTraining: false)
        return loaded.model.lastHiddenState()
    }

    private func check(_ precision: Precision, pytorchKey: String) throws {
        let fixture = try SafeTensorsFile(contentsOf: TestPaths.fixture("model/minilm_hidden.safetensors"))
        let fp32 = try fixture.floats("last_hidden_state")
        let pytorch = try SafeTensorsFile(contentsOf: TestPaths.fixture("model/minilm_low_precision.safetensors")).floats(pytorchKey)
        for backend in [LowPrecisionBackend.onednn, .reference] {
            let ours = try hidden(precision, backend: backend)
            XCTAssertNotEqual(ours, fp32, "\(precision) must not silently run fp32")
            assertAsCloseAsPyTorch(ours, fp32: fp32, pytorch: pytorch, "\(precision) \(backend) vs PyTorch \(pytorchKey)")
        }
    }

    func testBF16IsAtLeastAsCloseToFP32AsAutocast() throws {
        try check(.bf16, pytorchKey: "bf16_autocast")
    }

    /// The fused bf16 inference layers (epilogues on the matmul tiles, bf16 written by the producers)
    /// against their reference, the unfused bf16 layers. Both round the same values to bf16 at the same
    /// places, so on the reference backend, whose epilogues and softmax run the unfused layer's own kernels
    /// (its GELU and e^x, the same fp32 additions), the two are equal bit for bit. On oneDNN the GELU is
    /// oneDNN's, the softmax's e^x the AVX-512 BF16 kernel's, and a
    /// value's bf16 rounding flips now and then; a flip moves the next layers as much as any other
    /// bf16 rounding does, so there the fused forward is held, like the unfused one, to autocast's
    /// deviation from fp32 (`testBF16IsAtLeastAsCloseToFP32AsAutocast` runs the fused path).
    func testFusedBF16LayersEqualTheUnfusedOnesOnTheReferenceBackend() throws {
        let fused = try hidden(.bf16, backend: .reference), unfused = try hidden(.bf16, backend: .reference, fused: false)
        XCTAssertEqual(fused.count, unfused.count)
        XCTAssertEqual(maxAbsDifference(fused, unfused), 0, "fused and unfused bf16 layers on the reference backend")
        // Where oneDNN runs the GELU epilogue (not capped below AVX-512 BF16), its GELU makes the two differ.
        var gelu = MatmulDescription(m: 64, n: 64, k: 64, lda: 64, ldb: 64, ldc: 64, transA: false, transB: true,
                                     a: .bf16, b: .bf16, c: .bf16)
        (gelu.hasBias, gelu.epilogue) = (true, .gelu)
        let fusedOneDNN = try hidden(.bf16, backend: .onednn), unfusedOneDNN = try hidden(.bf16, backend: .onednn, fused: false)
        XCTAssertEqual(fusedOneDNN != unfusedOneDNN, OneDNN.supports(gelu),
                       "the oneDNN forward takes the fused path exactly where oneDNN has the GELU epilogue")
    }

    /// Inference packs the bf16 weights once for oneDNN and frees the plain copies; a training forward
    /// makes plain ones again from the masters (and frees the packed), and the next inference packs again:
    /// the same result every time the masters are the same.
    func testPackedAndPlainWeightsTakeTurnsWithoutChangingResults() throws {
        let loaded = try ModelDirectory.load(TestPaths.miniLMDirectory, spanHead: .ifPresent)
        let model = loaded.model
        let batch = try fixtureBatch(try SafeTensorsFile(contentsOf: TestPaths.fixture("model/minilm_hidden.safetensors")))
        model.precision = .bf16
        try model.encode(batch, forTraining: false)
        let first = model.lastHiddenState()
        try model.encode(batch, forTraining: true)
        let training = model.lastHiddenState()
        try model.encode(batch, forTraining: false)
        XCTAssertEqual(model.lastHiddenState(), first, "inference after a training forward (weights packed again)")
        try model.encode(batch, forTraining: true)
        XCTAssertEqual(model.lastHiddenState(), training, "a training forward after inference (plain weights made again)")
        // The backend switched under a model holding packed weights: the reference path gets plain ones.
        try model.encode(batch, forTraining: false)
        let saved = LowPrecision.backend
        defer { LowPrecision.backend = saved }
        LowPrecision.backend = .reference
        try model.encode(batch, forTraining: false)
        let reference = model.lastHiddenState()
        XCTAssertEqual(reference.count, first.count)
        // Each is within autocast's largest deviation from fp32 (testBF16IsAtLeastAsCloseToFP32AsAutocast), so
        // they are within twice it of each other.
        let fixture = try SafeTensorsFile(contentsOf: TestPaths.fixture("model/minilm_hidden.safetensors"))
        let autocast = try SafeTensorsFile(contentsOf: TestPaths.fixture("model/minilm_low_precision.safetensors")).floats("bf16_autocast")
        let allowed = 2 * maxAbsDifference(autocast, try fixture.floats("last_hidden_state"))
        XCTAssertLessThanOrEqual(maxAbsDifference(reference, first), allowed, "the reference path on a model that held packed weights")
    }

    func testInt8IsAtLeastAsCloseToFP32AsDynamicQuantization() throws {
        try check(.int8, pytorchKey: "int8_dynamic")
    }

    func testInt8RefusesTrainingAndConvertedWeightsFollowTheMasters() throws {
        let loaded = try ModelDirectory.load(TestPaths.miniLMDirectory, spanHead: .ifPresent)
        let model = loaded.model
        let batch = try fixtureBatch(try SafeTensorsFile(contentsOf: TestPaths.fixture("model/minilm_hidden.safetensors")))
        model.precision = .int8
        XCTAssertThrowsError(try model.encode(batch, forTraining: true))
        model.precision = .bf16
        try model.encode(batch, forTraining: false)
        let before = model.lastHiddenState()
        // Rewrite the masters: without parametersDidChange the cached bf16 copies would be stale.
        let w = model.parameters.pointer
        for i in model.layout.layers[0].qkvWeight..<(model.layout.layers[0].qkvWeight + 1000) { w[i] *= 0.5 }
        model.parametersDidChange()
        try model.encode(batch, forTraining: false)
        XCTAssertNotEqual(model.lastHiddenState(), before, "the bf16 weights were not converted again")
    }

    /// The bf16 backward (tiny QA model, padded batch, masked span loss) against fp32 PyTorch, held to
    /// PyTorch's bf16 autocast backward on the same inputs (fixtures/model/tiny_qa_autocast.safetensors):
    /// per parameter tensor the error relative to its largest fp32 gradient; over the tensors, ours may
    /// not be worse than autocast's in total, nor in the worst tensor. Gradients that are zero in exact
    /// arithmetic (see assertGradientsMatch) are skipped: both sides are rounding noise there.
    func testBF16BackwardIsAtLeastAsCloseToFP32AsAutocast() throws {
        try checkBackward("tiny_qa")
    }

    /// Heads 32 wide on 3 × 100 tokens with suffix and interior padding: the fused training attention where it runs
    /// (AMX or AVX-512 BF16), and the twin, each held to autocast's gradients.
    func testBF16BackwardWithTheFusedTrainingAttentionIsAtLeastAsCloseToFP32AsAutocast() throws {
        let saved = FusedTrainingAttention.enabled
        defer { FusedTrainingAttention.enabled = saved }
        for fused in [true, false] {
            FusedTrainingAttention.enabled = fused
            print("head32: fused training attention \(FusedTrainingAttention.runs(headSize: 32) ? "runs" : "does not run")")
            try checkBackward("head32_qa")
        }
    }

    private func checkBackward(_ name: String) throws {
        let loaded = try ModelDirectory.load(TestPaths.fixture("model/\(name)_model"), spanHead: .require)
        let model = loaded.model
        let fixture = try SafeTensorsFile(contentsOf: TestPaths.fixture("model/\(name).safetensors"))
        let autocast = try SafeTensorsFile(contentsOf: TestPaths.fixture("model/\(name)_autocast.safetensors"))
        model.precision = .bf16
        model.zeroGradients()
        let loss = try model.spanLossStep(try fixtureBatch(fixture), startPositions: try fixture.int32s("start_positions"),
                                          endPositions: try fixture.int32s("end_positions"))
        // One scalar is no sample for a comparison with autocast's; the loss is fp32 math on logits whose
        // matmul inputs carry bf16 rounding: it must stay within one bf16 ulp (2⁻⁸ relative) of fp32.
        let fp32Loss = try fixture.floats("masked_loss")[0]
        XCTAssertLessThanOrEqual(abs(loss - fp32Loss), 0x1p-8 * fp32Loss, "loss \(loss) vs fp32 \(fp32Loss)")
        XCTAssertNotEqual(loss, fp32Loss, "the bf16 forward did not run")
        let expected = try Dictionary(uniqueKeysWithValues: model.layout.entries.map { ($0.name, try fixture.floats("grad." + $0.name)) })
        let globalScale = expected.values.reduce(Float(0)) { max($0, $1.reduce(0) { max($0, abs($1)) }) }
        var ours: [Float] = [], theirs: [Float] = []
        for entry in model.layout.entries {
            let reference = expected[entry.name]!
            let scale = reference.reduce(0) { max($0, abs($1)) }
            guard scale > 1e-6 * globalScale else { continue }
            let mine = maxAbsDifference(model.gradients.values(entry.name), reference) / scale
            let torch = maxAbsDifference(try autocast.floats("grad." + entry.name), reference) / scale
            XCTAssertGreaterThan(mine, 0, "\(entry.name): bf16 gradient equals fp32: the bf16 backward did not run")
            print(String(format: "%-60@ ours %.2e autocast %.2e", entry.name as NSString, mine, torch))
            ours.append(mine)
            theirs.append(torch)
        }
        XCTAssertGreaterThan(ours.count, 20)
        XCTAssertLessThanOrEqual(ours.reduce(0, +), theirs.reduce(0, +), "total relative gradient error vs autocast's")
        XCTAssertLessThanOrEqual(ours.max()!, theirs.max()!, "worst tensor's relative gradient error vs autocast's")
    }
}
