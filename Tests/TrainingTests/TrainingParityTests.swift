import Foundation
import TestSupport
import XCTest
@testable import Training

/// A few AdamW steps of our model + optimizer against PyTorch's losses on the same tiny
/// BertForQuestionAnswering (scripts/fixtures/make_training_parity_fixtures.py).
final class TrainingParityTests: XCTestCase {
    struct Reference: Decodable {
        struct Step: Decodable { var loss: Double; var grad_norm: Double; var learning_rate: Double }
        struct Batch: Decodable {
            var input_ids: [[Int32]]
            var token_type_ids: [[Int32]]
            var attention_mask: [[Int32]]
            var start_positions: [Int32]
            var end_positions: [Int32]
        }
        var steps: [Step]
        var peak_lr: Double
        var warmup_steps: Int
        var total_steps: Int
        var weight_decay: Double
        var max_norm: Double
        var batches: [Batch]
    }

    func testFiveAdamWStepsMatchPyTorchLosses() throws {
        let directory = TestPaths.fixture("training/tiny_qa_parity")
        let referenceURL = directory.appendingPathComponent("reference.json")
        guard let data = FileManager.default.contents(atPath: referenceURL.path) else {
            return XCTFail("missing \(referenceURL.path): run python3 scripts/fixtures/make_training_parity_fixtures.py")
        }
        let reference = try JSONDecoder().decode(Reference.self, from: data)
        let model = try BertSpanTrainable(directory: directory, dropout: 0)
        XCTAssertTrue(model.initialised.isEmpty, "the fixture has every tensor, the span head included")

        // Each fixture batch as windows of real tokens, re-padded to the fixture's padded length.
        let batches: [SpanBatch] = reference.batches.map { batch in
            let windows = batch.input_ids.indices.map { row -> SpanTrainingWindow in
                let length = Int(batch.attention_mask[row].reduce(0, +))
                return SpanTrainingWindow(inputIds: Array(batch.input_ids[row][0..<length]),
                                          tokenTypeIds: Array(batch.token_type_ids[row][0..<length]),
                                          startPosition: batch.start_positions[row], endPosition: batch.end_positions[row])
            }
            return SpanBatch(windows: windows, sequenceLength: batch.input_ids[0].count)
        }
        var settings = TrainerSettings()
        settings.maxSteps = reference.total_steps
        settings.learningRate = reference.peak_lr
        settings.warmupRatio = Double(reference.warmup_steps) / Double(reference.total_steps)
        settings.weightDecay = reference.weight_decay
        settings.maxGradNorm = reference.max_norm
        settings.dropout = 0
        settings.maxSequenceLength = 64
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("parity-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        // The trainer's own batch plan is not used here: the steps replay the fixture's batches.
        let fixtureWindows = reference.batches.flatMap { batch in
            batch.input_ids.indices.map { row in
                SpanTrainingWindow(inputIds: batch.input_ids[row], tokenTypeIds: batch.token_type_ids[row],
                                   startPosition: batch.start_positions[row], endPosition: batch.end_positions[row])
            }
        }
        let trainer = try Trainer(model: model, windows: fixtureWindows, settings: settings, outputDirectory: output)
        XCTAssertEqual(trainer.schedule.warmupSteps, reference.warmup_steps)

        for (step, expected) in reference.steps.enumerated() {
            let outcome = try trainer.optimizationStep(microBatches: [batches[step % batches.count]], dropoutSeed: nil, step: step)
            XCTAssertEqual(outcome.learningRate, expected.learning_rate, accuracy: 1e-12, "learning rate of step \(step + 1)")
            XCTAssertEqual(outcome.loss, expected.loss, accuracy: 1e-5 * expected.loss, "loss of step \(step + 1)")
            XCTAssertEqual(outcome.gradientNorm, expected.grad_norm, accuracy: 1e-4 * expected.grad_norm,
                           "gradient norm of step \(step + 1)")
        }
    }

    func testGradientAccumulationEqualsOneBigBatch() throws {
        // Two micro-batches weighted by their rows must give the same loss and update as the whole batch.
        let directory = TestPaths.fixture("training/tiny_qa_parity")
        let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: directory.appendingPathComponent("reference.json")))
        let rows = reference.batches[0]
        let windows = rows.input_ids.indices.map { row -> SpanTrainingWindow in
            let length = Int(rows.attention_mask[row].reduce(0, +))
            return SpanTrainingWindow(inputIds: Array(rows.input_ids[row][0..<length]),
                                      tokenTypeIds: Array(rows.token_type_ids[row][0..<length]),
                                      startPosition: rows.start_positions[row], endPosition: rows.end_positions[row])
        }
        var results: [(loss: Double, gradients: [Float])] = []
        for split in [false, true] {
            let model = try BertSpanTrainable(directory: directory, dropout: 0)
            var settings = TrainerSettings()
            settings.maxSteps = 4
            settings.warmupRatio = 0
            settings.maxSequenceLength = 64
            let output = FileManager.default.temporaryDirectory.appendingPathComponent("accumulation-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: output) }
            let trainer = try Trainer(model: model, windows: windows, settings: settings, outputDirectory: output)
            let micro = split ? [SpanBatch(windows: Array(windows[0..<1]), sequenceLength: 16),
                                 SpanBatch(windows: Array(windows[1...]), sequenceLength: 24)]
                              : [SpanBatch(windows: windows, sequenceLength: 24)]
            let outcome = try trainer.optimizationStep(microBatches: micro, dropoutSeed: nil, step: 0)
            // The (clipped) gradients the update used: Adam's first step is ≈ lr·sign(g), which would
            // amplify rounding differences of near-zero gradients, so compare what it was fed.
            results.append((outcome.loss, Array(UnsafeBufferPointer(start: model.gradients, count: model.parameterCount))))
        }
        XCTAssertEqual(results[0].loss, results[1].loss, accuracy: 1e-5 * results[0].loss)
        let scale = results[0].gradients.map { abs($0) }.max()!
        let largest = zip(results[0].gradients, results[1].gradients).map { abs($0 - $1) }.max()!
        XCTAssertGreaterThan(scale, 0)
        XCTAssertLessThan(largest, 1e-5 * scale, "gradients differ by \(largest) (largest gradient \(scale))")
    }
}
