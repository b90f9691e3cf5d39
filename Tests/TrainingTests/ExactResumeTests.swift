import Foundation
import TestSupport
import XCTest
@testable import Training

/// `--resume` after a SIGKILL in the middle of a step continues exactly: the same loss sequence and
/// the same final weights (and EMA) as an uninterrupted run with the same seed.
final class ExactResumeTests: XCTestCase {
    func trainArguments(out: URL, resume: Bool) -> [String] {
        ["train", "--model", TestPaths.fixture("training/tiny_qa_parity").path,
         "--train", TestPaths.fixture("training/tiny_squad.json").path, "--out", out.path,
         "--max-seq-len", "32", "--doc-stride", "8", "--max-query-len", "8", "--batch-size", "8",
         "--max-steps", "12", "--checkpoint-every", "4", "--learning-rate", "1e-3", "--dropout", "0.1",
         "--ema-decay", "0.9", "--seed", "7", "--no-progress"] + (resume ? ["--resume"] : [])
    }

    /// Everything of a metrics record but wall-clock timing.
    func trajectory(_ url: URL) throws -> [String] {
        try MetricsLog.read(url).map { "\($0.step) \($0.epoch) \($0.loss.bitPattern) \($0.learningRate.bitPattern) \($0.gradientNorm.bitPattern)" }
    }

    func testResumeAfterSIGKILLInTheMiddleOfAStepIsExact() throws {
        let root = try CLIProcess.temporaryDirectory("resume")
        defer { try? FileManager.default.removeItem(at: root) }
        let straight = root.appendingPathComponent("straight"), killed = root.appendingPathComponent("killed")

        let reference = try CLIProcess.run(trainArguments(out: straight, resume: false), logDirectory: root, name: "straight")
        XCTAssertEqual(reference.status, 0, reference.stderr)
        let expected = try trajectory(straight.appendingPathComponent("metrics.jsonl"))
        XCTAssertEqual(expected.count, 12)

        // Hold the second run inside step 7 (gradients computed, update not applied) and SIGKILL it.
        let (process, _, errURL) = try CLIProcess.start(trainArguments(out: killed, resume: false),
                                                        environment: [FaultInjection.environmentVariable: "7"],
                                                        logDirectory: root, name: "killed")
        let marker = killed.appendingPathComponent(".paused-in-step-7")
        let deadline = Date().addingTimeInterval(300)
        while !FileManager.default.fileExists(atPath: marker.path) && process.isRunning && Date() < deadline {
            usleep(20_000)
        }
        XCTAssertTrue(process.isRunning, "the run ended before step 7: \((try? String(contentsOf: errURL, encoding: .utf8)) ?? "")")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationReason, .uncaughtSignal)
        XCTAssertEqual(process.terminationStatus, SIGKILL)
        let store = CheckpointStore(outputDirectory: killed)
        XCTAssertEqual(store.latest?.step, 4, "the kill must leave checkpoint-4 as the latest, so steps 5–7 are redone")
        XCTAssertEqual(try trajectory(killed.appendingPathComponent("metrics.jsonl")).count, 6, "steps 1–6 were logged before the kill")

        let resumed = try CLIProcess.run(trainArguments(out: killed, resume: true), logDirectory: root, name: "resumed")
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("resuming from"), resumed.stderr)
        XCTAssertEqual(try trajectory(killed.appendingPathComponent("metrics.jsonl")), expected,
                       "the resumed run's losses, learning rates and gradient norms must equal the uninterrupted run's, bit for bit")
        for file in ["model.safetensors", "ema.safetensors"] {
            let a = try Data(contentsOf: straight.appendingPathComponent(file))
            let b = try Data(contentsOf: killed.appendingPathComponent(file))
            XCTAssertTrue(a == b, "\(file) differs between the uninterrupted and the resumed run")
        }
    }

    func testResumeRefusesOtherSettings() throws {
        let root = try CLIProcess.temporaryDirectory("resume-settings")
        defer { try? FileManager.default.removeItem(at: root) }
        let out = root.appendingPathComponent("run")
        var arguments = trainArguments(out: out, resume: false)
        arguments[arguments.firstIndex(of: "--max-steps")! + 1] = "4"
        XCTAssertEqual(try CLIProcess.run(arguments, logDirectory: root, name: "first").status, 0)
        // Same directory without --resume: refused before any work.
        let again = try CLIProcess.run(arguments, logDirectory: root, name: "again")
        XCTAssertNotEqual(again.status, 0)
        XCTAssertTrue(again.stderr.contains("already holds checkpoint-4"), again.stderr)
        // --resume with another learning rate: refused, naming the state file.
        var other = arguments + ["--resume"]
        other[other.firstIndex(of: "--learning-rate")! + 1] = "2e-3"
        let mismatch = try CLIProcess.run(other, logDirectory: root, name: "mismatch")
        XCTAssertNotEqual(mismatch.status, 0)
        XCTAssertTrue(mismatch.stderr.contains("other training settings"), mismatch.stderr)
    }
}
