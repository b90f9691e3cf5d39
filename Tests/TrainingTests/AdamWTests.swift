import Foundation
import TestSupport
import XCTest
@testable import Training

/// AdamW + clipping + schedule against the trajectory torch.optim.AdamW produced
/// (scripts/fixtures/make_adamw_fixtures.py).
final class AdamWTests: XCTestCase {
    struct Reference: Decodable {
        struct Step: Decodable {
            var gradients: [Float]
            var norm: Double
            var learning_rate: Double
            var after: [Float]
        }
        var names: [String]
        var shapes: [[Int]]
        var peak_lr: Double
        var warmup_steps: Int
        var total_steps: Int
        var weight_decay: Double
        var max_norm: Double
        var initial: [Float]
        var steps: [Step]
    }

    func loadReference() throws -> Reference {
        let url = TestPaths.fixture("training/adamw_reference.json")
        guard let data = FileManager.default.contents(atPath: url.path) else {
            XCTFail("missing \(url.path): run python3 scripts/fixtures/make_adamw_fixtures.py")
            throw TrainingError.io("missing fixture")
        }
        return try JSONDecoder().decode(Reference.self, from: data)
    }

    func testMatchesTorchAdamWWithClippingAndSchedule() throws {
        let reference = try loadReference()
        var tensors: [(name: String, range: Range<Int>, decays: Bool)] = []
        var offset = 0
        for (name, shape) in zip(reference.names, reference.shapes) {
            let size = shape.reduce(1, *)
            // The script's no-decay rule (Hugging Face recipes): biases and LayerNorm weights.
            tensors.append((name, offset..<offset + size, !(name.hasSuffix("bias") || name.contains("LayerNorm"))))
            offset += size
        }
        let segments = try ParameterSegments(tensors: tensors, total: offset)
        XCTAssertEqual(segments.segments.map(\.decays), [true, false], "the bias and the LayerNorm weight are not decayed")
        let optimizer = AdamW(segments: segments, hyperparameters: .init(weightDecay: reference.weight_decay))
        let schedule = LearningRateSchedule(peak: reference.peak_lr, warmupSteps: reference.warmup_steps,
                                            totalSteps: reference.total_steps)
        var parameters = reference.initial
        var sawClipping = false
        for (index, step) in reference.steps.enumerated() {
            var gradients = step.gradients
            let learningRate = schedule.learningRate(atStep: index)
            XCTAssertEqual(learningRate, step.learning_rate, accuracy: 1e-15, "learning rate at step \(index)")
            let norm = GradientClipping.clip(&gradients, count: gradients.count, maxNorm: reference.max_norm)
            XCTAssertEqual(norm, step.norm, accuracy: 1e-5 * step.norm, "gradient norm at step \(index)")
            if norm > reference.max_norm { sawClipping = true }
            parameters.withUnsafeMutableBufferPointer { p in
                gradients.withUnsafeBufferPointer { g in
                    optimizer.update(parameters: p.baseAddress!, gradients: g.baseAddress!, learningRate: learningRate)
                }
            }
            for i in parameters.indices {
                XCTAssertEqual(parameters[i], step.after[i], accuracy: 2e-6 * max(1, abs(step.after[i])),
                               "parameter \(i) after step \(index + 1)")
            }
        }
        XCTAssertTrue(sawClipping, "the fixture must exercise clipping")
        XCTAssertEqual(optimizer.step, reference.steps.count)
    }

    func testSimdBodyAndTailAgreeAndChunkingIsIrrelevant() throws {
        // 3M elements cross the parallel chunk size; compare against an element-by-element update.
        let count = 3 * (1 << 20) + 13
        let segments = ParameterSegments(segments: [.init(range: 0..<1_000_003, decays: true),
                                                    .init(range: 1_000_003..<count, decays: false)])
        var generator = Xoshiro256(seed: 7)
        var parameters = (0..<count).map { _ in generator.nextUnitFloat() - 0.5 }
        let gradients = (0..<count).map { _ in generator.nextUnitFloat() - 0.5 }
        var expected = parameters
        let optimizer = AdamW(segments: segments)
        let scalarM = UnsafeMutablePointer<Float>.allocate(capacity: count); scalarM.initialize(repeating: 0, count: count)
        let scalarV = UnsafeMutablePointer<Float>.allocate(capacity: count); scalarV.initialize(repeating: 0, count: count)
        defer { scalarM.deallocate(); scalarV.deallocate() }
        for _ in 0..<2 {
            parameters.withUnsafeMutableBufferPointer { p in
                optimizer.update(parameters: p.baseAddress!, gradients: gradients, learningRate: 1e-3)
            }
        }
        // Scalar reference of the same two steps.
        for step in 1...2 {
            let bc1 = 1 - pow(0.9, Double(step)), bc2 = (1 - pow(0.999, Double(step))).squareRoot()
            for i in 0..<count {
                let g = gradients[i]
                if i < 1_000_003 { expected[i] *= Float(1 - 1e-3 * 0.01) }
                scalarM[i] = scalarM[i] + Float(1 - 0.9) * (g - scalarM[i])
                scalarV[i] = scalarV[i] * 0.999 + Float(1 - 0.999) * (g * g)
                expected[i] -= Float(1e-3 / bc1) * (scalarM[i] / (scalarV[i].squareRoot() / Float(bc2) + 1e-8))
            }
        }
        let mismatches = parameters.indices.filter { parameters[$0] != expected[$0] }
        XCTAssertTrue(mismatches.isEmpty, "\(mismatches.count) mismatches, first at \(mismatches.first ?? -1): "
                      + "\(mismatches.first.map { "\(parameters[$0]) vs \(expected[$0])" } ?? "")")
    }
}
