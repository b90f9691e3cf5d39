import Foundation
import TestSupport
import XCTest
@testable import Training

/// A transfer set end to end: `teach --transfer` labels questions that have no gold answers (a SQuAD file
/// whose answers were removed), `distill --transfer` learns them from the soft labels alone beside the gold
/// training file (the SQuAD 2.0 fixture), and a `distill` that leaves the transfer file out is refused (the
/// store holds its windows).
extension DistillCLITests {
    /// tiny_squad.json without its answers: questions nobody has labelled.
    func writeUnlabelledQuestions(_ url: URL) throws {
        let json = try SQuADFixtureEditing.mapQuestions(of: TestPaths.fixture("training/tiny_squad.json")) { qa in
            var qa = qa
            qa["answers"] = [Any]()
            return qa
        }
        try JSONSerialization.data(withJSONObject: json).write(to: url)
    }

    func testTeachAndDistillATransferSet() throws {
        let data = TestPaths.fixture("training/tiny_squad_v2.json").path
        let root = try CLIProcess.temporaryDirectory("transfer")
        defer { try? FileManager.default.removeItem(at: root) }
        let unlabelled = root.appendingPathComponent("unlabelled.json")
        try writeUnlabelledQuestions(unlabelled)
        // Without --transfer, such questions have no window to train on.
        let plainStore = root.appendingPathComponent("plain.bin")
        let plain = try CLIProcess.run(["teach", "--student", model, "--data", data, "--out", plainStore.path,
                                        "--teacher", model, "--no-progress"] + windowArguments,
                                       logDirectory: root, name: "teach-plain")
        XCTAssertEqual(plain.status, 0, plain.stderr)
        let labels = root.appendingPathComponent("labels.bin")
        let taught = try CLIProcess.run(["teach", "--student", model, "--data", data, "--transfer", unlabelled.path,
                                         "--out", labels.path, "--teacher", model, "--no-progress"] + windowArguments,
                                        logDirectory: root, name: "teach")
        XCTAssertEqual(taught.status, 0, taught.stderr)
        XCTAssertTrue(taught.stderr.contains("unlabelled.json: 72 questions"), taught.stderr)
        XCTAssertTrue(taught.stderr.contains("(transfer set: gold not used)"), taught.stderr)
        let windows = { (stderr: String) -> Int in
            let line = stderr.split(separator: "\n").first { $0.contains("training windows from") }!
            return Int(line.split(separator: " ")[0])!
        }
        let transferWindows = windows(taught.stderr) - windows(plain.stderr)
        XCTAssertGreaterThan(transferWindows, 72, "every window of every transfer question is labelled")

        let arguments = ["distill", "--student", model, "--soft-labels", labels.path, "--train", data,
                         "--batch-size", "8", "--max-steps", "6", "--learning-rate", "1e-3", "--seed", "3",
                         "--no-progress"] + windowArguments
        let distilled = try CLIProcess.run(arguments + ["--transfer", unlabelled.path, "--out", root.appendingPathComponent("student").path],
                                           logDirectory: root, name: "distill")
        XCTAssertEqual(distilled.status, 0, distilled.stderr)
        XCTAssertTrue(distilled.stderr.contains("transfer set: \(transferWindows) windows learnt from the soft labels alone"),
                      distilled.stderr)
        let metrics = try MetricsLog.read(root.appendingPathComponent("student/metrics.jsonl"))
        XCTAssertEqual(metrics.count, 6)
        XCTAssertTrue(metrics.allSatisfy { ($0.terms?["soft"] ?? 0) > 0 && ($0.terms?["hard"] ?? -1) >= 0 }, "\(metrics)")

        let refused = try CLIProcess.run(arguments + ["--out", root.appendingPathComponent("refused").path],
                                         logDirectory: root, name: "refused")
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("labels.bin"), refused.stderr)
    }
}
