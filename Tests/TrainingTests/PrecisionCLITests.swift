import Checkpoint
import Foundation
import TestSupport
import XCTest

/// The first (longest, unpadded) real SQuAD pair of fixtures/model/minilm_hidden.safetensors: its question and
/// context, its token count, fp32 PyTorch's last hidden state and a PyTorch low-precision scheme's.
private struct FixturePair {
    let question: String, context: String, seqLen: Int
    let fp32: [Float]

    init() throws {
        let fixture = try SafeTensorsFile(contentsOf: TestPaths.fixture("model/minilm_hidden.safetensors"))
        question = (try JSONSerialization.jsonObject(with: Data(fixture.metadata["questions"]!.utf8)) as! [String])[0]
        context = (try JSONSerialization.jsonObject(with: Data(fixture.metadata["contexts"]!.utf8)) as! [String])[0]
        seqLen = try fixture.info("input_ids").shape[1]
        fp32 = Array(try fixture.floats("last_hidden_state")[0..<(seqLen * 384)])
    }

    /// PyTorch's `key` scheme (bf16_autocast, int8_dynamic) on the pair, and its largest deviation from fp32.
    func allowedDeviation(_ key: String) throws -> Float {
        let row = Array(try SafeTensorsFile(contentsOf: TestPaths.fixture("model/minilm_low_precision.safetensors"))
            .floats(key)[0..<(seqLen * 384)])
        return maxDeviation(row, fp32)
    }

    func maxDeviation(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) } }
}

/// `--precision` end to end, with each dispatch path forced: oneDNN's best ISA here, oneDNN capped at
/// AVX-512 (no BF16 instructions) and at AVX2 (oneDNN 2.6 has no bf16 matmul there: the reference
/// path runs), and the reference path by request. Every path must say which one ran and stay within
/// PyTorch autocast's own deviation from fp32 on the same real SQuAD pair (the first row of
/// fixtures/model/minilm_hidden.safetensors, the longest, so unpadded at its 160 tokens).
final class PrecisionCLITests: XCTestCase {
    private func hidden(_ output: String) throws -> [Float] {
        let object = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]
        let rows = try XCTUnwrap(object?["last_hidden_state"] as? [[Double]])
        return rows.flatMap { $0.map(Float.init) }
    }

    func testEveryDispatchPathStaysWithinAutocastsDeviation() throws {
        let root = try CLIProcess.temporaryDirectory("precision")
        defer { try? FileManager.default.removeItem(at: root) }
        let pair = try FixturePair()
        let (seqLen, fp32Row) = (pair.seqLen, pair.fp32)
        let allowed = try pair.allowedDeviation("bf16_autocast")
        let base = ["forward", "--model", TestPaths.miniLMDirectory.path, "--question", pair.question, "--context", pair.context,
                    "--max-seq-len", String(seqLen), "--hidden"]

        let fp32 = try CLIProcess.run(base, logDirectory: root, name: "fp32")
        XCTAssertEqual(fp32.status, 0, fp32.stderr)
        let ours32 = try hidden(fp32.stdout)
        XCTAssertEqual(ours32.count, fp32Row.count, "the CLI must read the fixture's pair to the same \(seqLen) tokens")
        XCTAssertLessThanOrEqual(zip(ours32, fp32Row).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }, 1e-4)

        let paths: [(name: String, environment: [String: String], says: String)] = [
            ("best", [:], "oneDNN"),
            ("avx512-core", ["MRC_ONEDNN_MAX_ISA": "AVX512_CORE"], "ISA avx512_core,"),
            ("avx2", ["MRC_ONEDNN_MAX_ISA": "AVX2"], "ISA avx2,"),
            ("reference", ["MRC_LOW_PRECISION": "reference"], "reference"),
        ]
        var outputs: [String: [Float]] = [:]
        for path in paths {
            let result = try CLIProcess.run(base + ["--precision", "bf16"], environment: path.environment, logDirectory: root,
                                            name: path.name)
            XCTAssertEqual(result.status, 0, "\(path.name): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains("precision bf16: ") && result.stderr.contains(path.says),
                          "\(path.name) must say what ran: \(result.stderr)")
            let values = try hidden(result.stdout)
            let error = zip(values, fp32Row).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
            XCTAssertGreaterThan(error, 0, "\(path.name) ran fp32")
            XCTAssertLessThanOrEqual(error, allowed, "\(path.name): max |bf16 − fp32| against autocast's \(allowed)")
            outputs[path.name] = values
        }
        let int8 = try CLIProcess.run(base + ["--precision", "int8"], logDirectory: root, name: "int8")
        XCTAssertEqual(int8.status, 0, int8.stderr)
        XCTAssertTrue(int8.stderr.contains("int8 "), int8.stderr)
        XCTAssertNotEqual(try hidden(int8.stdout), outputs["best"])
    }

    /// `calibrate` writes the static int8 scales into the model directory, and `--precision int8` then uses them
    /// (and says so); the result is another than the per-token path's and within PyTorch's dynamic int8 deviation
    /// from fp32 on the same real pair. Data without a single window is refused, naming the option.
    func testCalibrateWritesStaticScalesThatInt8Uses() throws {
        let root = try CLIProcess.temporaryDirectory("calibrate")
        defer { try? FileManager.default.removeItem(at: root) }
        let model = root.appendingPathComponent("minilm")
        try FileManager.default.createDirectory(at: model, withIntermediateDirectories: true)
        for name in try FileManager.default.contentsOfDirectory(atPath: TestPaths.miniLMDirectory.path) {
            try FileManager.default.createSymbolicLink(at: model.appendingPathComponent(name),
                                                       withDestinationURL: TestPaths.miniLMDirectory.appendingPathComponent(name))
        }
        let calibrate = try CLIProcess.run(["calibrate", "--model", model.path, "--data", TestPaths.fixture("training/tiny_squad.json").path,
                                            "--windows", "6", "--batch-size", "4"], logDirectory: root, name: "calibrate")
        XCTAssertEqual(calibrate.status, 0, calibrate.stderr)
        XCTAssertTrue(calibrate.stdout.contains("layer 5: "), calibrate.stdout)
        XCTAssertTrue(FileManager.default.fileExists(atPath: model.appendingPathComponent("int8-calibration.json").path))

        let pair = try FixturePair()
        let allowed = try pair.allowedDeviation("int8_dynamic")
        func forward(_ directory: URL, _ name: String) throws -> (values: [Float], stderr: String) {
            let result = try CLIProcess.run(["forward", "--model", directory.path, "--question", pair.question, "--context", pair.context,
                                             "--max-seq-len", String(pair.seqLen), "--hidden", "--precision", "int8"],
                                            logDirectory: root, name: name)
            XCTAssertEqual(result.status, 0, result.stderr)
            return (try hidden(result.stdout), result.stderr)
        }
        let staticRun = try forward(model, "static"), dynamicRun = try forward(TestPaths.miniLMDirectory, "dynamic")
        XCTAssertTrue(staticRun.stderr.contains("static scales from int8-calibration.json"), staticRun.stderr)
        XCTAssertTrue(dynamicRun.stderr.contains("per-token scales"), dynamicRun.stderr)
        XCTAssertNotEqual(staticRun.values, dynamicRun.values)
        let error = pair.maxDeviation(staticRun.values, pair.fp32)
        XCTAssertLessThanOrEqual(error, allowed, "static int8: max |int8 − fp32| against PyTorch's dynamic int8 \(allowed)")

        let empty = root.appendingPathComponent("empty.json")
        try Data(#"{"version": "1.1", "data": []}"#.utf8).write(to: empty)
        let refused = try CLIProcess.run(["calibrate", "--model", model.path, "--data", empty.path], logDirectory: root, name: "empty")
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("--data gave no windows"), refused.stderr)
    }

    func testBF16TrainingRunsAndAResumeMustKeepThePrecision() throws {
        let root = try CLIProcess.temporaryDirectory("precision-train")
        defer { try? FileManager.default.removeItem(at: root) }
        let out = root.appendingPathComponent("model")
        let common = ["train", "--model", TestPaths.fixture("training/tiny_qa_parity").path,
                      "--train", TestPaths.fixture("training/tiny_squad.json").path, "--out", out.path,
                      "--batch-size", "8", "--learning-rate", "1e-3", "--checkpoint-every", "3", "--no-progress",
                      "--max-seq-len", "32", "--doc-stride", "8", "--max-query-len", "8"]
        let refused = try CLIProcess.run(common + ["--max-steps", "3", "--precision", "int8"], logDirectory: root, name: "int8")
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("--precision int8 is for inference"), refused.stderr)
        // Stopped in step 5 (after the checkpoint of step 3), then resumed.
        let (process, _, stderr) = try CLIProcess.start(common + ["--max-steps", "6", "--precision", "bf16"],
                                                        environment: ["MRC_DISTILL_PAUSE_IN_STEP": "5"], logDirectory: root, name: "bf16")
        let marker = out.appendingPathComponent(".paused-in-step-5")
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: marker.path), process.isRunning, Date() < deadline { usleep(50_000) }
        process.terminate()
        process.waitUntilExit()
        XCTAssertTrue(FileManager.default.fileExists(atPath: marker.path), "the bf16 run did not reach step 5")
        XCTAssertTrue(try String(contentsOf: stderr, encoding: .utf8).contains("precision bf16"))
        let wrong = try CLIProcess.run(common + ["--max-steps", "6", "--resume"], logDirectory: root, name: "resume-fp32")
        XCTAssertNotEqual(wrong.status, 0, "a bf16 run resumed in fp32 must be refused: \(wrong.stderr)")
        let right = try CLIProcess.run(common + ["--max-steps", "6", "--resume", "--precision", "bf16"], logDirectory: root,
                                       name: "resume-bf16")
        XCTAssertEqual(right.status, 0, right.stderr)
        let losses = try String(contentsOf: out.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        XCTAssertEqual(losses.split(separator: "\n").count, 6)
        XCTAssertFalse(losses.contains("nan"), losses)
    }
}
