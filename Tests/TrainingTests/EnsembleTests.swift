import Foundation
import MRC
import TestSupport
import Text
import XCTest
@testable import Training

/// `predict --model A --model B`: an ensemble is one system whose logits are its members' combined.
final class EnsembleTests: XCTestCase {
    let tinyModel = TestPaths.fixture("training/tiny_qa_parity")
    let tinySquad = TestPaths.fixture("training/tiny_squad.json")
    let settings = WindowSettings(maxSeqLen: 32, docStride: 8, maxQueryLen: 8)
    let windowArguments = ["--max-seq-len", "32", "--doc-stride", "8", "--max-query-len", "8"]

    func windows() throws -> (WordPieceTokenizer, [Window]) {
        let tokenizer = try WordPieceTokenizer(vocabFile: tinyModel.appendingPathComponent("vocab.txt"))
        let examples = try MRCReader.read(tinySquad).examples
        return (tokenizer, try WindowBuilder(tokenizer: tokenizer, settings: settings).windows(for: examples).windows)
    }

    /// A model ensembled with itself, under any weights, answers exactly as the model: the same logits bit
    /// for bit, and the same prediction files byte for byte.
    func testAModelWithItselfAnswersExactlyAsTheModel() throws {
        let model = try BertSpanTrainable(directory: tinyModel).model
        let (tokenizer, windows) = try windows()
        let single = try ModelScorer(model: model, batchSize: 7)
        let alone = try single.scores(windows)
        let root = try CLIProcess.temporaryDirectory("ensemble-self")
        defer { try? FileManager.default.removeItem(at: root) }
        let reference = try Predictor(scorer: single, tokenizer: tokenizer, windowSettings: settings, decoderSettings: SpanDecoderSettings())
            .predict(file: tinySquad, into: root.appendingPathComponent("single"), showProgress: false)
        for weights in [[1.0, 1.0], [1.0, 3.0], [0.2, 0.2, 0.2]] {
            let ensemble = try EnsembleScorer(members: weights.map { _ in single }, weights: weights)
            let combined = try ensemble.scores(windows)
            for (a, b) in zip(alone, combined) {
                XCTAssertEqual(a.startLogits, b.startLogits, "weights \(weights)")
                XCTAssertEqual(a.endLogits, b.endLogits, "weights \(weights)")
            }
            let directory = root.appendingPathComponent("ensemble-\(weights.count)-\(weights[1])")
            let predicted = try Predictor(scorer: ensemble, tokenizer: tokenizer, windowSettings: settings,
                                          decoderSettings: SpanDecoderSettings())
                .predict(file: tinySquad, into: directory, showProgress: false)
            XCTAssertEqual(predicted.predictions, reference.predictions)
            for name in ["predictions.json", "nbest_predictions.json"] {
                XCTAssertEqual(try Data(contentsOf: directory.appendingPathComponent(name)),
                               try Data(contentsOf: root.appendingPathComponent("single").appendingPathComponent(name)), name)
            }
        }
    }

    /// Two different members (the tiny model and its first layer alone): mean-logits gives Σ wᵢ zᵢ / Σ wᵢ of
    /// the raw logits, mean-probabilities log Σ wᵢ softmax(zᵢ) / Σ wᵢ over each window's tokens, both checked
    /// against the members' own logits combined here in double precision.
    func testLogitsAreTheWeightedCombinationOfTheMembers() throws {
        let (_, windows) = try windows()
        let first = try ModelScorer(model: try BertSpanTrainable(directory: tinyModel).model, batchSize: 5)
        let second = try ModelScorer(model: try BertSpanTrainable(directory: tinyModel, layers: [0]).model, batchSize: 3)
        let a = try first.scores(windows), b = try second.scores(windows)
        let (wa, wb) = (1.0, 3.0)
        XCTAssertGreaterThan(zip(a, b).map { zip($0.startLogits, $1.startLogits).map { abs($0 - $1) }.max()! }.max()!, 0.01,
                             "the members must differ")
        func logSoftmax(_ z: [Float]) -> [Double] {
            let m = Double(z.max()!), sum = z.reduce(0.0) { $0 + exp(Double($1) - m) }
            return z.map { Double($0) - m - log(sum) }
        }
        for combination in EnsembleScorer.Combination.allCases {
            let ensemble = try EnsembleScorer(members: [first, second], weights: [wa, wb], combination: combination)
            XCTAssertEqual(ensemble.parameterCount, first.parameterCount + second.parameterCount)
            let combined = try ensemble.scores(windows)
            for index in windows.indices {
                for (pick, side) in [(\SpanScores.startLogits, "start"), (\SpanScores.endLogits, "end")] {
                    let za = a[index][keyPath: pick], zb = b[index][keyPath: pick]
                    let expected: [Double]
                    switch combination {
                    case .meanLogits:
                        expected = zip(za, zb).map { (wa * Double($0) + wb * Double($1)) / (wa + wb) }
                    case .meanProbabilities:
                        expected = zip(logSoftmax(za), logSoftmax(zb)).map { log((wa * exp($0) + wb * exp($1)) / (wa + wb)) }
                    }
                    let got = combined[index][keyPath: pick]
                    XCTAssertEqual(got.count, windows[index].length)
                    // Float rounding of the members' logits and of the sums: a few ulps of the largest magnitude.
                    let scale = max(1, expected.map(abs).max()!)
                    for t in got.indices {
                        XCTAssertEqual(Double(got[t]), expected[t], accuracy: 4e-6 * scale,
                                       "\(combination) window \(index) \(side) token \(t)")
                    }
                }
            }
        }
    }

    /// On the command line: `--model A --model A` writes what `--model A` writes; members with another
    /// tokenizer are refused naming both directories; a bad --combine is refused.
    func testPredictWithAnEnsembleOnTheCommandLine() throws {
        let root = try CLIProcess.temporaryDirectory("ensemble-cli")
        defer { try? FileManager.default.removeItem(at: root) }
        let single = try CLIProcess.run(["predict", "--model", tinyModel.path, "--data", tinySquad.path,
                                         "--out", root.appendingPathComponent("single").path] + windowArguments,
                                        logDirectory: root, name: "single")
        XCTAssertEqual(single.status, 0, single.stderr)
        let twice = try CLIProcess.run(["predict", "--model", "a=\(tinyModel.path)", "--model", "b=\(tinyModel.path):2",
                                        "--data", tinySquad.path, "--out", root.appendingPathComponent("twice").path] + windowArguments,
                                       logDirectory: root, name: "twice")
        XCTAssertEqual(twice.status, 0, twice.stderr)
        XCTAssertEqual(single.stdout.replacingOccurrences(of: "/single", with: "/twice"), twice.stdout, "the same scores table")
        for name in ["predictions.json", "nbest_predictions.json", "eval.json"] {
            let a = try String(contentsOf: root.appendingPathComponent("single/\(name)"), encoding: .utf8)
            let b = try String(contentsOf: root.appendingPathComponent("twice/\(name)"), encoding: .utf8)
            XCTAssertEqual(a.replacingOccurrences(of: "/single", with: "/twice"), b, name)
        }

        // Another vocabulary (two tokens swapped, same size): the members would read different windows.
        let other = root.appendingPathComponent("other-vocab")
        try FileManager.default.copyItem(at: tinyModel, to: other)
        var vocab = try String(contentsOf: other.appendingPathComponent("vocab.txt"), encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        vocab.swapAt(vocab.count - 2, vocab.count - 3)
        try vocab.joined(separator: "\n").write(to: other.appendingPathComponent("vocab.txt"), atomically: true, encoding: .utf8)
        let mixed = try CLIProcess.run(["predict", "--model", tinyModel.path, "--model", other.path, "--data", tinySquad.path,
                                        "--out", root.appendingPathComponent("mixed").path] + windowArguments,
                                       logDirectory: root, name: "mixed")
        XCTAssertNotEqual(mixed.status, 0)
        XCTAssertTrue(mixed.stderr.contains("\(other.path) has another tokenizer than \(tinyModel.path)"), mixed.stderr)

        let combine = try CLIProcess.run(["predict", "--model", tinyModel.path, "--combine", "median", "--data", tinySquad.path,
                                          "--out", root.appendingPathComponent("bad").path] + windowArguments,
                                         logDirectory: root, name: "combine")
        XCTAssertNotEqual(combine.status, 0)
        XCTAssertTrue(combine.stderr.contains("--combine must be mean-logits or mean-probabilities, not median"), combine.stderr)
    }
}
