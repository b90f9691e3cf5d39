import Checkpoint
import Distillation
import Foundation
import Kernels
import Model
import TestSupport
import Training
import XCTest

/// Intermediate-layer distillation against PyTorch (float64 autograd, scripts/fixtures/make_intermediate_fixtures.py):
/// the student tiny_qa_parity learns a 4-layer teacher as wide as itself (map 1:2,2:4, no projection) and a
/// 3-layer teacher 48 wide (map 1:1,2:3, linear projections 32 → 48), on a batch with padding. The three loss
/// terms and the gradient of 0.7·hidden + 1.3·attention + 0.4·embedding for every student parameter and
/// every projection must match.
final class IntermediateParityTests: XCTestCase {
    let student = TestPaths.fixture("training/tiny_qa_parity")
    let weights = (hidden: Float(0.7), attention: Float(1.3), embedding: Float(0.4))

    /// The student (with its projections loaded from the fixture), the intermediate teacher and the fixture.
    func load(_ name: String, teacher: String, precision: Precision = .fp32, teacherPrecision: Precision? = nil) throws
        -> (BertSpanTrainable, IntermediateDistillation, SafeTensorsFile, EncoderBatch) {
        let fixture = try SafeTensorsFile(contentsOf: TestPaths.fixture("distillation/intermediate/\(name).safetensors"))
        let map = try fixture.int32s("layer_map")
        let teacherModel = try ModelDirectory.load(TestPaths.fixture("distillation/intermediate/\(teacher)"), spanHead: .omit).model
        let layerMap = try LayerMap(pairs: stride(from: 0, to: map.count, by: 2).map { (Int(map[$0]), Int(map[$0 + 1])) },
                                    studentLayers: 2, teacherLayers: teacherModel.config.numHiddenLayers)
        let settings = IntermediateSettings(layerMap: layerMap, hiddenWeight: weights.hidden, attentionWeight: weights.attention,
                                            embeddingWeight: weights.embedding)
        let projections = settings.projections(studentWidth: 32, teacherWidth: teacherModel.config.hiddenSize)
        let trainable = try BertSpanTrainable(directory: student, auxiliary: projections)
        for tensor in projections {
            trainable.model.parameters[tensor.name].baseAddress!.update(from: try fixture.floats(tensor.name), count: tensor.shape.reduce(1, *))
        }
        trainable.model.precision = precision
        teacherModel.precision = teacherPrecision ?? precision
        let distillation = try IntermediateDistillation(teacher: teacherModel, student: trainable.model, settings: settings)
        let shape = try fixture.info("input_ids").shape
        let batch = try EncoderBatch(batch: shape[0], seqLen: shape[1], inputIds: try fixture.int32s("input_ids"),
                                     tokenTypeIds: try fixture.int32s("token_type_ids"), attentionMask: try fixture.int32s("attention_mask"))
        return (trainable, distillation, fixture, batch)
    }

    /// Forward, the intermediate losses, and a backward with zero span-logit gradients: every gradient is
    /// the intermediate loss's.
    func run(_ trainable: BertSpanTrainable, _ distillation: IntermediateDistillation, _ batch: EncoderBatch, lossScale: Float = 1) throws
        -> (terms: [String: Double], total: Double) {
        let model = trainable.model
        model.zeroGradients()
        _ = try model.forward(batch)
        let result = try distillation.compute(student: model, batch: batch, lossScale: lossScale)
        let zeros = [Float](repeating: 0, count: batch.tokenCount)
        model.backward(dStartLogits: zeros, dEndLogits: zeros, intermediate: result.gradients)
        return (result.terms, result.total)
    }

    /// max |ours − reference| / max |reference| per tensor ≤ `tolerance` (the metric of the model parity
    /// tests); tensors whose reference is 0 up to rounding (the span head, which no term reaches, and the
    /// key biases, which leave a softmax unchanged) must be as small on our side.
    func assertGradients(_ model: BertModel, _ fixture: SafeTensorsFile, tolerance: Float, scale lossScale: Float = 1,
                         file: StaticString = #filePath, line: UInt = #line) throws {
        let names = Set(model.layout.entries.map(\.name))
        XCTAssertEqual(names, Set(fixture.tensors.keys.filter { $0.hasPrefix("grad.") }.map { String($0.dropFirst(5)) }), file: file, line: line)
        let expected = try Dictionary(uniqueKeysWithValues: model.layout.entries.map { ($0.name, try fixture.floats("grad." + $0.name)) })
        let global = expected.values.flatMap { $0 }.map(abs).max()!
        var zero: [String] = []
        for entry in model.layout.entries {
            let reference = expected[entry.name]!.map { $0 * lossScale }
            let ours = model.gradients.values(entry.name)
            let scale = reference.map(abs).max()!
            if scale <= 1e-6 * global * lossScale {
                zero.append(entry.name)
                XCTAssertLessThanOrEqual(ours.map(abs).max()!, 1e-6 * global * lossScale, "\(entry.name) should be 0", file: file, line: line)
                continue
            }
            let error = zip(ours, reference).map { abs($0 - $1) }.max()! / scale
            XCTAssertLessThanOrEqual(error, tolerance, "\(entry.name): relative gradient error \(error)", file: file, line: line)
        }
        XCTAssertEqual(Set(zero), ["qa_outputs.weight", "qa_outputs.bias", "bert.encoder.layer.0.attention.self.key.bias",
                                   "bert.encoder.layer.1.attention.self.key.bias"], file: file, line: line)
    }

    func assertTerms(_ terms: [String: Double], total: Double, _ fixture: SafeTensorsFile, tolerance: Double,
                     file: StaticString = #filePath, line: UInt = #line) throws {
        for name in ["hidden", "attention", "embedding", "total"] {
            let expected = Double(try fixture.floats(name)[0])
            let ours = name == "total" ? total : terms[name]!
            XCTAssertEqual(ours, expected, accuracy: tolerance * abs(expected), name, file: file, line: line)
        }
    }

    func testSameWidthTermsAndGradientsMatchPyTorch() throws {
        let (trainable, distillation, fixture, batch) = try load("same", teacher: "teacher_deep")
        XCTAssertTrue(trainable.model.layout.auxiliary.isEmpty, "equal widths need no projection")
        let (terms, total) = try run(trainable, distillation, batch)
        try assertTerms(terms, total: total, fixture, tolerance: 1e-5)
        try assertGradients(trainable.model, fixture, tolerance: 1e-4)
    }

    func testProjectedTermsAndGradientsMatchPyTorch() throws {
        let (trainable, distillation, fixture, batch) = try load("wide", teacher: "teacher_wide")
        XCTAssertEqual(trainable.model.layout.auxiliary.map(\.name), [
            "distillation.embedding_projection.weight", "distillation.embedding_projection.bias",
            "distillation.hidden_projection.1.weight", "distillation.hidden_projection.1.bias",
            "distillation.hidden_projection.2.weight", "distillation.hidden_projection.2.bias"])
        let (terms, total) = try run(trainable, distillation, batch)
        try assertTerms(terms, total: total, fixture, tolerance: 1e-5)
        try assertGradients(trainable.model, fixture, tolerance: 1e-4)
    }

    /// The loss scale (a pass's share of the batch) scales every gradient, projections included, and no term.
    func testLossScaleScalesGradientsOnly() throws {
        let (trainable, distillation, fixture, batch) = try load("wide", teacher: "teacher_wide")
        let (terms, total) = try run(trainable, distillation, batch, lossScale: 0.25)
        try assertTerms(terms, total: total, fixture, tolerance: 1e-5)
        try assertGradients(trainable.model, fixture, tolerance: 1e-4, scale: 0.25)
    }

    /// The student's bf16 path (matmuls and attention products with bf16 inputs, fp32 accumulation) with the
    /// intermediate gradients, against the float64 reference, held to PyTorch's bf16 autocast on the same
    /// computation (`autocast.grad.*`; both against the float32 teacher, whose bf16 forward is checked on its
    /// own below): per tensor the error relative to its largest reference gradient; over the tensors ours
    /// may not be worse than autocast's in total, nor in the worst tensor (the yardstick of the model's bf16
    /// backward test). Tensors that are 0 in exact arithmetic are rounding noise on both sides.
    func testBF16StudentGradientsAreAtLeastAsCloseAsAutocast() throws {
        for (name, teacher) in [("same", "teacher_deep"), ("wide", "teacher_wide")] {
            let (trainable, distillation, fixture, batch) = try load(name, teacher: teacher, precision: .bf16, teacherPrecision: .fp32)
            _ = try run(trainable, distillation, batch)
            let model = trainable.model
            let global = try model.layout.entries.map { try fixture.floats("grad." + $0.name).map(abs).max()! }.max()!
            var ours: [Float] = [], theirs: [Float] = []
            for entry in model.layout.entries {
                let reference = try fixture.floats("grad." + entry.name)
                let scale = reference.map(abs).max()!
                guard scale > 1e-6 * global else { continue }
                let error = { (values: [Float]) in zip(values, reference).map { abs($0 - $1) }.max()! / scale }
                ours.append(error(model.gradients.values(entry.name)))
                theirs.append(error(try fixture.floats("autocast.grad." + entry.name)))
            }
            XCTAssertGreaterThan(ours.count, 20, name)
            XCTAssertLessThanOrEqual(ours.reduce(0, +), theirs.reduce(0, +), "\(name): total relative gradient error vs autocast's")
            XCTAssertLessThanOrEqual(ours.max()!, theirs.max()!, "\(name): worst tensor's relative gradient error vs autocast's")
            print(String(format: "%@ bf16 student: total relative error ours %.3f, autocast %.3f; worst ours %.3f, autocast %.3f",
                         name, ours.reduce(0, +), theirs.reduce(0, +), ours.max()!, theirs.max()!))
        }
    }

    /// The teacher's bf16 capture (an inference forward that stops at the deepest mapped layer) holds exactly
    /// the states of the same model's bf16 training forward, and its mean absolute difference from the exact
    /// states is at most PyTorch autocast's, per captured tensor (bf16 precision itself is held to autocast
    /// on all-MiniLM-L6-v2 in LowPrecisionModelTests). The embeddings involve no bf16 matmul: they equal fp32.
    func testBF16TeacherCaptureIsTheTrainingForwardsStates() throws {
        for (name, teacher) in [("same", "teacher_deep"), ("wide", "teacher_wide")] {
            let (_, distillation, fixture, batch) = try load(name, teacher: teacher, precision: .bf16)
            let model = distillation.teacher
            let capture = try LayerCapture(config: model.config, hiddenLayers: distillation.capture.hiddenLayers,
                                           attentionLayers: distillation.capture.attentionLayers)
            try model.encode(batch, capturing: capture)
            try model.encode(batch)  // a training forward, no dropout
            var compared = 0
            for (kind, layers) in [("hidden", capture.hiddenLayers), ("attention", capture.attentionLayers)] {
                for layer in layers {
                    let exact = try fixture.floats("teacher.\(kind).\(layer)")
                    let captured = Array(UnsafeBufferPointer(start: kind == "hidden" ? capture.hidden(layer)! : capture.attention(layer)!,
                                                             count: exact.count))
                    let trained = Array(UnsafeBufferPointer(start: kind == "hidden" ? model.hiddenState(layer) : model.attentionProbabilities(layer),
                                                            count: exact.count))
                    XCTAssertEqual(captured, trained, "\(name) \(kind) \(layer): capture and training forward differ")
                    let mean = { (values: [Float]) in zip(values, exact).map { Double(abs($0 - $1)) }.reduce(0, +) / Double(exact.count) }
                    if kind == "hidden" && layer == 0 {
                        XCTAssertLessThanOrEqual(zip(captured, exact).map { abs($0 - $1) }.max()!, 1e-5, "\(name): embeddings")
                    } else {
                        let torch = mean(try fixture.floats("autocast.teacher.\(kind).\(layer)"))
                        XCTAssertLessThanOrEqual(mean(captured), torch, "\(name) \(kind) \(layer): mean difference vs autocast's")
                    }
                    compared += 1
                }
            }
            XCTAssertEqual(compared, 5, "the captured states (embeddings, two mapped hidden states, two mapped attentions)")
        }
    }

    /// In fp32 the capture is the teacher's own forward: the mapped states equal PyTorch's within the bound
    /// of the model's fp32 logit parity (1e-5 absolute, on states of unit scale).
    func testTeacherCaptureMatchesPyTorch() throws {
        let (_, distillation, fixture, batch) = try load("wide", teacher: "teacher_wide")
        let capture = distillation.capture
        try distillation.teacher.encode(batch, capturing: capture)
        XCTAssertEqual(capture.deepestLayer, 3)
        for layer in capture.hiddenLayers {
            let exact = try fixture.floats("teacher.hidden.\(layer)")
            XCTAssertLessThanOrEqual(zip(UnsafeBufferPointer(start: capture.hidden(layer)!, count: exact.count), exact).map { abs($0 - $1) }.max()!, 1e-5)
        }
        for layer in capture.attentionLayers {
            let exact = try fixture.floats("teacher.attention.\(layer)")
            XCTAssertLessThanOrEqual(zip(UnsafeBufferPointer(start: capture.attention(layer)!, count: exact.count), exact).map { abs($0 - $1) }.max()!, 1e-5)
        }
    }

    func testAttentionKLRefusesDifferentHeadCounts() throws {
        var config = try BertConfig.load(from: TestPaths.fixture("distillation/intermediate/teacher_wide/config.json"))
        config.numAttentionHeads = 2
        let teacher = BertModel(config: config, heads: [])
        let trainable = try BertSpanTrainable(directory: student)
        let map = try LayerMap.uniform(studentLayers: 2, teacherLayers: 3)
        XCTAssertThrowsError(try IntermediateDistillation(teacher: teacher, student: trainable.model,
                                                          settings: IntermediateSettings(layerMap: map, hiddenWeight: 0, attentionWeight: 1))) {
            XCTAssertTrue("\($0)".contains("4 attention heads, the intermediate teacher 2"), "\($0)")
        }
        // Without the attention term, head counts may differ (a projection joins the widths).
        let settings = IntermediateSettings(layerMap: map, hiddenWeight: 1, attentionWeight: 0)
        let projected = try BertSpanTrainable(directory: student, auxiliary: settings.projections(studentWidth: 32, teacherWidth: 48))
        XCTAssertNoThrow(try IntermediateDistillation(teacher: teacher, student: projected.model, settings: settings))
        XCTAssertThrowsError(try IntermediateDistillation(teacher: teacher, student: trainable.model, settings: settings)) {
            XCTAssertTrue("\($0)".contains("no projection"), "\($0)")
        }
    }

    func testLayerMaps() throws {
        XCTAssertEqual(try LayerMap.uniform(studentLayers: 3, teacherLayers: 6).description, "1:2,2:4,3:6")
        XCTAssertEqual(try LayerMap.uniform(studentLayers: 4, teacherLayers: 6).description, "1:2,2:3,3:5,4:6")
        XCTAssertEqual(try LayerMap.uniform(studentLayers: 6, teacherLayers: 6).description, "1:1,2:2,3:3,4:4,5:5,6:6")
        XCTAssertEqual(try LayerMap(parsing: "1:1, 3:6", studentLayers: 3, teacherLayers: 6).description, "1:1,3:6")
        for (text, message) in [("0:1", "numbered from 1"), ("4:6", "the student has 3 layers"), ("1:7", "teacher has 6 layers"),
                                ("1:2,1:3", "one teacher layer only"), ("1:2,2:2", "one student layer only"), ("1-2", "student:teacher")] {
            XCTAssertThrowsError(try LayerMap(parsing: text, studentLayers: 3, teacherLayers: 6), text) {
                XCTAssertTrue("\($0)".contains(message), "\(text): \($0)")
            }
        }
    }
}
