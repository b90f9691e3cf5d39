import Checkpoint
import Foundation
import TestSupport
import XCTest
@testable import Training

/// `distill` with intermediate-layer distillation end to end on the tiny fixtures: all weights 0 is plain
/// distill bit for bit; with a wider teacher (projections 32 → 48) a run killed inside a step resumes to
/// the same bytes, the checkpoints carry the projections and the exported student does not; the terms
/// are logged; bad options are refused before any work.
final class IntermediateCLITests: XCTestCase {
    let model = TestPaths.fixture("training/tiny_qa_parity").path
    let wide = TestPaths.fixture("distillation/intermediate/teacher_wide").path
    let data = TestPaths.fixture("training/tiny_squad.json").path
    let windowArguments = ["--max-seq-len", "32", "--doc-stride", "8", "--max-query-len", "8"]

    func labels(_ root: URL) throws -> URL {
        let labels = root.appendingPathComponent("labels.bin")
        let taught = try CLIProcess.run(["teach", "--student", model, "--data", data, "--out", labels.path,
                                         "--teacher", "tiny=\(model)", "--no-progress"] + windowArguments,
                                        logDirectory: root, name: "teach")
        XCTAssertEqual(taught.status, 0, taught.stderr)
        return labels
    }

    func distill(_ out: URL, labels: URL, _ extra: [String], resume: Bool = false) -> [String] {
        ["distill", "--student", model, "--soft-labels", labels.path, "--train", data, "--out", out.path,
         "--batch-size", "8", "--max-steps", "12", "--checkpoint-every", "4", "--learning-rate", "1e-3",
         "--dropout", "0.1", "--seed", "7", "--mlm-mix-ratio", "1", "--temperature", "2", "--no-progress"]
            + windowArguments + extra + (resume ? ["--resume"] : [])
    }

    func testZeroWeightsArePlainDistillBitForBit() throws {
        let root = try CLIProcess.temporaryDirectory("intermediate-zero")
        defer { try? FileManager.default.removeItem(at: root) }
        let labels = try labels(root)
        let plain = root.appendingPathComponent("plain"), zero = root.appendingPathComponent("zero")
        let a = try CLIProcess.run(distill(plain, labels: labels, []), logDirectory: root, name: "plain")
        XCTAssertEqual(a.status, 0, a.stderr)
        let b = try CLIProcess.run(distill(zero, labels: labels, ["--intermediate-teacher", wide, "--hidden-mse", "0",
                                                                  "--attention-kl", "0", "--embedding-mse", "0"]),
                                   logDirectory: root, name: "zero")
        XCTAssertEqual(b.status, 0, b.stderr)
        XCTAssertTrue(b.stderr.contains("--intermediate-teacher is unused"), b.stderr)
        XCTAssertEqual(try DistillationTestSupport.trajectory(zero.appendingPathComponent("metrics.jsonl")), try DistillationTestSupport.trajectory(plain.appendingPathComponent("metrics.jsonl")))
        XCTAssertEqual(try Data(contentsOf: zero.appendingPathComponent("model.safetensors")),
                       try Data(contentsOf: plain.appendingPathComponent("model.safetensors")))
    }

    func testProjectedRunLogsTermsAndResumesExactlyAfterSIGKILL() throws {
        let root = try CLIProcess.temporaryDirectory("intermediate-resume")
        defer { try? FileManager.default.removeItem(at: root) }
        let labels = try labels(root)
        let options = ["--intermediate-teacher", wide, "--layer-map", "1:1,2:3", "--hidden-mse", "1", "--attention-kl", "0.5",
                       "--embedding-mse", "0.25", "--ema-decay", "0.9"]
        let straight = root.appendingPathComponent("straight"), killed = root.appendingPathComponent("killed")
        let reference = try CLIProcess.run(distill(straight, labels: labels, options), logDirectory: root, name: "straight")
        XCTAssertEqual(reference.status, 0, reference.stderr)
        XCTAssertTrue(reference.stderr.contains("map 1:1,2:3") && reference.stderr.contains("3 projection(s) to width 48"), reference.stderr)
        let records = try MetricsLog.read(straight.appendingPathComponent("metrics.jsonl"))
        XCTAssertEqual(Set(records.compactMap(\.task)), ["mrc", "mlm"])
        for record in records {
            let names = Set((record.terms ?? [:]).keys)
            XCTAssertEqual(names, record.task == "mrc" ? ["hard", "soft", "hidden", "attention", "embedding"] : ["mlm"], "step \(record.step)")
        }
        // The checkpoint holds the projections (and their moments); the exported student does not.
        let checkpoint = try SafeTensorsFile(contentsOf: straight.appendingPathComponent("checkpoint-12/model.safetensors"))
        XCTAssertEqual(try checkpoint.info("distillation.hidden_projection.2.weight").shape, [48, 32])
        let exported = try SafeTensorsFile(contentsOf: straight.appendingPathComponent("model.safetensors"))
        XCTAssertFalse(exported.tensors.keys.contains { $0.hasPrefix("distillation.") || $0.hasPrefix("cls.") })
        let ema = try SafeTensorsFile(contentsOf: straight.appendingPathComponent("ema.safetensors"))
        XCTAssertFalse(ema.tensors.keys.contains { $0.hasPrefix("distillation.") })

        let (process, _, errURL) = try CLIProcess.start(distill(killed, labels: labels, options),
                                                        environment: [FaultInjection.environmentVariable: "7"],
                                                        logDirectory: root, name: "killed")
        let marker = killed.appendingPathComponent(".paused-in-step-7")
        let deadline = Date().addingTimeInterval(300)
        while !FileManager.default.fileExists(atPath: marker.path) && process.isRunning && Date() < deadline { usleep(20_000) }
        XCTAssertTrue(process.isRunning, "the run ended before step 7: \((try? String(contentsOf: errURL, encoding: .utf8)) ?? "")")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        XCTAssertEqual(CheckpointStore(outputDirectory: killed).latest?.step, 4)
        let resumed = try CLIProcess.run(distill(killed, labels: labels, options, resume: true), logDirectory: root, name: "resumed")
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertEqual(try DistillationTestSupport.trajectory(killed.appendingPathComponent("metrics.jsonl")),
                       try DistillationTestSupport.trajectory(straight.appendingPathComponent("metrics.jsonl")))
        for file in ["model.safetensors", "ema.safetensors", "checkpoint-12/model.safetensors"] {
            XCTAssertEqual(try Data(contentsOf: straight.appendingPathComponent(file)), try Data(contentsOf: killed.appendingPathComponent(file)),
                           "\(file) differs after resume")
        }
        // A resume with other intermediate settings is refused.
        var other = options
        other[other.firstIndex(of: "--hidden-mse")! + 1] = "2"
        let refused = try CLIProcess.run(distill(killed, labels: labels, other, resume: true), logDirectory: root, name: "other")
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("intermediate-layer distillation"), refused.stderr)
    }

    /// A student narrower than its teacher, which cannot copy the teacher's layers: `init` makes it (Hugging
    /// Face's initialisation, the teacher's vocabulary), and `distill` learns the teacher's hidden states
    /// through projections 16 → 32.
    func testInitMakesANarrowStudentThatDistillsThroughProjections() throws {
        let root = try CLIProcess.temporaryDirectory("intermediate-narrow")
        defer { try? FileManager.default.removeItem(at: root) }
        let narrow = root.appendingPathComponent("narrow")
        let made = try CLIProcess.run(["init", "--from", model, "--hidden-size", "16", "--layers", "2", "--heads", "4",
                                       "--intermediate-size", "32", "--out", narrow.path], logDirectory: root, name: "init")
        XCTAssertEqual(made.status, 0, made.stderr)
        let config = try BertConfig.load(from: narrow.appendingPathComponent("config.json"))
        XCTAssertEqual([config.hiddenSize, config.numHiddenLayers, config.numAttentionHeads, config.intermediateSize], [16, 2, 4, 32])
        let weights = try SafeTensorsFile(contentsOf: narrow.appendingPathComponent("model.safetensors"))
        let query = try weights.floats("bert.encoder.layer.1.attention.self.query.weight")
        let std = (query.map { Double($0 * $0) }.reduce(0, +) / Double(query.count)).squareRoot()
        XCTAssertEqual(std, 0.02, accuracy: 0.003, "N(0, initializer_range²)")
        XCTAssertEqual(try weights.floats("bert.encoder.layer.0.output.LayerNorm.weight"), [Float](repeating: 1, count: 16))
        XCTAssertEqual(try Data(contentsOf: narrow.appendingPathComponent("vocab.txt")),
                       try Data(contentsOf: URL(fileURLWithPath: model).appendingPathComponent("vocab.txt")))
        let refused = try CLIProcess.run(["init", "--from", model, "--hidden-size", "18", "--heads", "4", "--out", root.path + "/bad"],
                                         logDirectory: root, name: "init-bad")
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("does not divide the width 18"), refused.stderr)

        let labels = try labels(root)
        let out = root.appendingPathComponent("student")
        var arguments = distill(out, labels: labels, ["--intermediate-teacher", model, "--hidden-mse", "1", "--attention-kl", "1"])
        arguments[arguments.firstIndex(of: "--student")! + 1] = narrow.path
        let result = try CLIProcess.run(arguments, logDirectory: root, name: "distill")
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("2 projection(s) to width 32"), result.stderr)
        let last = try MetricsLog.read(out.appendingPathComponent("metrics.jsonl")).last { $0.task == "mrc" }
        XCTAssertNotNil(last?.terms?["hidden"])
    }

    func testBadOptionsAreRefusedBeforeAnyWork() throws {
        let root = try CLIProcess.temporaryDirectory("intermediate-refused")
        defer { try? FileManager.default.removeItem(at: root) }
        let labels = root.appendingPathComponent("labels.bin")
        try Data("not a store".utf8).write(to: labels)
        for (extra, message) in [(["--hidden-mse", "1"], "need --intermediate-teacher"),
                                 (["--intermediate-teacher", wide, "--attention-kl", "nan"], "--attention-kl must be a finite weight"),
                                 (["--intermediate-teacher", root.path + "/none", "--hidden-mse", "1"], "is not a directory"),
                                 (["--intermediate-teacher", wide, "--hidden-mse", "1", "--layer-map", "1:4"], "teacher has 3 layers")] {
            let out = root.appendingPathComponent("out")
            let result = try CLIProcess.run(distill(out, labels: labels, extra), logDirectory: root, name: "refused")
            XCTAssertNotEqual(result.status, 0, "\(extra)")
            XCTAssertTrue(result.stderr.contains(message), "\(extra): \(result.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent("metrics.jsonl").path))
        }
    }
}
