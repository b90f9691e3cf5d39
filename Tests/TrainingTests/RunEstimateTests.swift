import Checkpoint
import Foundation
import TestSupport
import Training
import XCTest

/// Run estimates: the cost model's FLOPs against PyTorch's own count, the interpolation of measured
/// rates, and `--estimate` on the CLI (the windows and steps the run then has, nothing run or written,
/// the rates kept for the next run).
final class RunEstimateTests: XCTestCase {
    /// fixtures/model/encoder_flops.json: torch.utils.flop_counter.FlopCounterMode over Hugging Face's
    /// BertForQuestionAnswering (forward; forward + backward) and BERT's MLM head
    /// (scripts/fixtures/make_flops_fixtures.py).
    func testEncoderFLOPsEqualPyTorchsCount() throws {
        let data = try Data(contentsOf: TestPaths.fixture("model/encoder_flops.json"))
        let cases = try XCTUnwrap((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["cases"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 4)
        for entry in cases {
            func int(_ key: String) -> Int { (entry[key] as? NSNumber)?.intValue ?? -1 }
            var config = try BertConfig.load(from: TestPaths.fixture("model/tiny_qa_model/config.json"))
            config.numHiddenLayers = int("layers")
            config.hiddenSize = int("hidden")
            config.intermediateSize = int("intermediate")
            config.vocabSize = int("vocab")
            let cost = EncoderCost(config: config)
            let (rows, seqLen, masked) = (int("rows"), int("seq_len"), int("masked"))
            XCTAssertEqual(cost.forward(rows: rows, seqLen: seqLen), Double(int("forward")), "\(entry)")
            XCTAssertEqual(cost.training(rows: rows, seqLen: seqLen), Double(int("training")), "\(entry)")
            XCTAssertEqual(cost.forward(rows: rows, seqLen: seqLen, maskedPositions: masked) - cost.forward(rows: rows, seqLen: seqLen),
                           Double(int("mlm_head_forward")), "\(entry)")
        }
    }

    func testRatesInterpolateBetweenTheMeasuredLengths() {
        let rate = EngineRate(inference: [.init(seqLen: 384, secondsPerGFLOP: 0.004), .init(seqLen: 192, secondsPerGFLOP: 0.006)],
                              training: [.init(seqLen: 192, secondsPerGFLOP: 0.01)], measured: "test")
        XCTAssertEqual(rate.seconds(flops: 2e9, seqLen: 384, training: false), 0.008, accuracy: 1e-12)
        XCTAssertEqual(rate.seconds(flops: 2e9, seqLen: 288, training: false), 0.010, accuracy: 1e-12)
        XCTAssertEqual(rate.seconds(flops: 1e9, seqLen: 64, training: false), 0.006, accuracy: 1e-12, "below: the shortest")
        XCTAssertEqual(rate.seconds(flops: 1e9, seqLen: 512, training: false), 0.004, accuracy: 1e-12, "above: the longest")
        XCTAssertEqual(rate.seconds(flops: 1e9, seqLen: 300, training: true), 0.01, accuracy: 1e-12)
    }

    func testTrainEstimateTellsTheRunsWindowsAndStepsAndRunsNothing() throws {
        let root = try CLIProcess.temporaryDirectory("estimate")
        defer { try? FileManager.default.removeItem(at: root) }
        let rates = root.appendingPathComponent("rates.json")
        let out = root.appendingPathComponent("model")
        let arguments = ["train", "--model", TestPaths.fixture("training/tiny_qa_parity").path,
                         "--train", TestPaths.fixture("training/tiny_squad.json").path,
                         "--dev", TestPaths.fixture("training/tiny_squad.json").path, "--out", out.path, "--epochs", "2",
                         "--batch-size", "8", "--ema-decay", "0.9", "--no-progress",
                         "--max-seq-len", "32", "--doc-stride", "8", "--max-query-len", "8"]
        let environment = ["MRC_ENGINE_RATES": rates.path]
        let estimate = try CLIProcess.run(arguments + ["--estimate"], environment: environment, logDirectory: root, name: "estimate")
        XCTAssertEqual(estimate.status, 0, estimate.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path), "--estimate writes nothing")
        let line = try XCTUnwrap(estimate.stdout.split(separator: "\n").first { $0.hasPrefix("estimate for train: ") }, estimate.stdout)
        XCTAssertTrue(estimate.stdout.contains("training ") && estimate.stdout.contains("dev evaluation "), estimate.stdout)
        XCTAssertTrue(estimate.stdout.contains("measured ") && estimate.stdout.contains("family "), estimate.stdout)
        let cached = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: rates)) as? [String: Any])
        XCTAssertEqual(cached.count, 2, "the training shape, and inference for the dev evaluation: \(cached.keys)")

        let run = try CLIProcess.run(arguments, environment: environment, logDirectory: root, name: "run")
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stderr.contains(String(line)), "the run tells the same estimate first:\n\(run.stderr)")
        XCTAssertTrue(run.stderr.contains("rates cached, measured"), "the second run reads the rates:\n\(run.stderr)")
        // The windows and steps the estimate told are the run's own.
        let windows = try XCTUnwrap(run.stderr.split(separator: "\n").first { $0.hasSuffix(" questions") && $0.contains(" training windows from ") })
        XCTAssertTrue(line.hasPrefix("estimate for train: \(windows.split(separator: " ")[0]) windows, "), "\(line) vs \(windows)")
        let steps = try XCTUnwrap(run.stderr.split(separator: "\n").first { $0.contains(" steps of 8 windows") })
        XCTAssertTrue(line.contains(", \(steps.split(separator: " ")[0]) steps, "), "\(line) vs \(steps)")
        XCTAssertEqual(try MetricsLog.read(out.appendingPathComponent("metrics.jsonl")).count, Int(steps.split(separator: " ")[0]))
    }

    func testPredictAndTeachEstimatesRunNothing() throws {
        let root = try CLIProcess.temporaryDirectory("estimate-predict")
        defer { try? FileManager.default.removeItem(at: root) }
        let environment = ["MRC_ENGINE_RATES": root.appendingPathComponent("rates.json").path]
        let model = TestPaths.fixture("model/tiny_qa_model").path, data = TestPaths.fixture("training/tiny_squad.json").path
        let window = ["--max-seq-len", "32", "--doc-stride", "8", "--max-query-len", "8"]
        let predict = try CLIProcess.run(["predict", "--model", model, "--model", model, "--data", data, "--out",
                                          root.appendingPathComponent("p").path, "--estimate"] + window,
                                         environment: environment, logDirectory: root, name: "predict")
        XCTAssertEqual(predict.status, 0, predict.stderr)
        XCTAssertTrue(predict.stdout.hasPrefix("estimate for predict: "), predict.stdout)
        let teach = try CLIProcess.run(["teach", "--teacher", model, "--student", model, "--data", data, "--out",
                                        root.appendingPathComponent("t.bin").path, "--estimate"] + window,
                                       environment: environment, logDirectory: root, name: "teach")
        XCTAssertEqual(teach.status, 0, teach.stderr)
        XCTAssertTrue(teach.stdout.hasPrefix("estimate for teach: "), teach.stdout)
        let written = try FileManager.default.contentsOfDirectory(atPath: root.path).filter { !$0.hasSuffix(".stdout") && !$0.hasSuffix(".stderr") }
        XCTAssertEqual(written.sorted(), ["rates.json"], "nothing but the rates: \(written)")
    }
}
