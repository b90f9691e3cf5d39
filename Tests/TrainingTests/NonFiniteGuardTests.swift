import Foundation
import TestSupport
import XCTest
@testable import Training
import Text

/// A NaN or Inf in the loss or the gradients stops training with a clear error, and the last good
/// checkpoint stays the latest (nothing is written after the bad step).
final class NonFiniteGuardTests: XCTestCase {
    /// The tiny model, poisoned from its `poisonCall`-th forward/backward on.
    final class PoisonedModel: SpanTrainable {
        enum Poison { case gradient, weight }
        let inner: BertSpanTrainable
        let poison: Poison
        let poisonCall: Int
        var calls = 0
        init(_ inner: BertSpanTrainable, poison: Poison, poisonCall: Int) {
            self.inner = inner; self.poison = poison; self.poisonCall = poisonCall
        }
        var parameterCount: Int { inner.parameterCount }
        var parameters: UnsafeMutablePointer<Float> { inner.parameters }
        var gradients: UnsafeMutablePointer<Float> { inner.gradients }
        var parameterRanges: [(name: String, range: Range<Int>, decays: Bool)] { inner.parameterRanges }
        func zeroGradients() { inner.zeroGradients() }
        func accumulateGradients(_ batch: SpanBatch, dropoutSeed: UInt64?, lossScale: Float) throws -> Double {
            calls += 1
            if calls == poisonCall && poison == .weight { parameters[parameterCount - 3] = .nan }  // a span-head weight
            let loss = try inner.accumulateGradients(batch, dropoutSeed: dropoutSeed, lossScale: lossScale)
            if calls == poisonCall && poison == .gradient { gradients[17] = .infinity }
            return loss
        }
        func save(to directory: URL, weights: UnsafePointer<Float>?) throws { try inner.save(to: directory, weights: weights) }
        func saveWeights(_ weights: UnsafePointer<Float>, to file: URL) throws { try inner.saveWeights(weights, to: file) }
        func loadWeights(from directory: URL) throws { try inner.loadWeights(from: directory) }
    }

    func windows() throws -> [SpanTrainingWindow] {
        let model = TestPaths.fixture("training/tiny_qa_parity")
        let tokenizer = try WordPieceTokenizer(vocabFile: model.appendingPathComponent("vocab.txt"))
        return try TrainingData.load(files: [TestPaths.fixture("training/tiny_squad.json")], tokenizer: tokenizer,
                                     settings: .init(maxSeqLen: 32, docStride: 8, maxQueryLen: 8)).windows
    }

    func run(poison: PoisonedModel.Poison, expect what: String) throws {
        let output = try CLIProcess.temporaryDirectory("nonfinite")
        defer { try? FileManager.default.removeItem(at: output) }
        let model = PoisonedModel(try BertSpanTrainable(directory: TestPaths.fixture("training/tiny_qa_parity")),
                                  poison: poison, poisonCall: 3)
        var settings = TrainerSettings()
        settings.maxSteps = 10
        settings.batchSize = 8
        settings.checkpointEvery = 1
        settings.maxSequenceLength = 32
        settings.keepCheckpoints = 5
        let trainer = try Trainer(model: model, windows: try windows(), settings: settings, outputDirectory: output)
        XCTAssertThrowsError(try trainer.run(resume: false, showProgress: false)) { error in
            guard case let TrainingError.nonFinite(step, found, checkpoint) = error else {
                return XCTFail("expected a non-finite error, got \(error)")
            }
            XCTAssertEqual(step, 3)
            XCTAssertTrue(found.contains(what), found)
            XCTAssertEqual(checkpoint, output.appendingPathComponent("checkpoint-2").path)
            XCTAssertTrue("\(error)".contains("training stopped at step 3"), "\(error)")
            XCTAssertTrue("\(error)".contains("checkpoint-2"), "\(error)")
        }
        let store = CheckpointStore(outputDirectory: output)
        XCTAssertEqual(store.checkpoints().map(\.step), [1, 2], "no checkpoint after the bad step")
        XCTAssertEqual(try MetricsLog.read(output.appendingPathComponent("metrics.jsonl")).map(\.step), [1, 2])
        // The kept checkpoint is good: it loads and its weights are finite.
        let reloaded = try BertSpanTrainable(directory: store.latest!.url)
        XCTAssertTrue(UnsafeBufferPointer(start: reloaded.parameters, count: reloaded.parameterCount).allSatisfy(\.isFinite))
    }

    func testInfiniteGradientStopsTraining() throws { try run(poison: .gradient, expect: "gradient norm") }
    func testNaNLossStopsTraining() throws { try run(poison: .weight, expect: "the loss") }
}
