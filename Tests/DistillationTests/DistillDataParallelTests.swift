import Foundation
import TestSupport
import Training
import XCTest

/// `distill` on 2 MPI ranks runs exactly the passes of one process with twice the gradient
/// accumulation — the soft-label (KD) task and the MLM task alike, dropout on: rank r of a step runs
/// pass r, with that pass's rows, padding, dropout seed, MLM masking seed and loss scale. Before the
/// first update the weights are the same, so the first step's loss and every term must be the same
/// double (each side adds the same two products; a two-term sum does not depend on its order).
final class DistillDataParallelTests: XCTestCase {
    let model = TestPaths.fixture("training/tiny_qa_parity").path
    let data = TestPaths.fixture("training/tiny_squad.json").path
    let windowArguments = ["--max-seq-len", "32", "--doc-stride", "8", "--max-query-len", "8"]

    func testFirstStepOfEachTaskIsTheSameOnTwoRanksAsWithAccumulationTwo() throws {
        try CLIProcess.requireMPIRun()
        let root = try CLIProcess.temporaryDirectory("distill-data-parallel")
        defer { try? FileManager.default.removeItem(at: root) }
        let labels = root.appendingPathComponent("labels.bin")
        let taught = try CLIProcess.run(["teach", "--student", model, "--data", data, "--out", labels.path,
                                         "--teacher", "tiny=\(model)", "--no-progress"] + windowArguments,
                                        logDirectory: root, name: "teach")
        XCTAssertEqual(taught.status, 0, taught.stderr)
        // Seed 7 starts with an MRC (KD) step, seed 8 with an MLM step; the third run adds intermediate-layer
        // KD from a wider teacher (its projections are parameters like any other, summed over the ranks).
        let intermediate = ["--intermediate-teacher", TestPaths.fixture("distillation/intermediate/teacher_wide").path,
                            "--hidden-mse", "1", "--attention-kl", "1", "--embedding-mse", "1"]
        for (seed, task, extra) in [(7, "mrc", [String]()), (8, "mlm", []), (7, "mrc", intermediate)] {
            func first(_ name: String, ranks: Int?, accumulation: Int) throws -> StepMetrics? {
                let tag = "\(name)-\(seed)\(extra.isEmpty ? "" : "-intermediate")"
                let out = root.appendingPathComponent(tag)
                let arguments = ["distill", "--student", model, "--soft-labels", labels.path, "--train", data, "--out", out.path,
                                 "--batch-size", "8", "--gradient-accumulation", "\(accumulation)", "--max-steps", "1",
                                 "--learning-rate", "1e-3", "--dropout", "0.1", "--seed", "\(seed)", "--mlm-mix-ratio", "2",
                                 "--temperature", "2", "--threads", "1", "--no-progress"] + windowArguments + extra
                let result = try CLIProcess.run(arguments, logDirectory: root, name: tag, ranks: ranks)
                XCTAssertEqual(result.status, 0, result.stderr)
                return try MetricsLog.read(out.appendingPathComponent("metrics.jsonl")).first
            }
            let one = try first("one-process", ranks: nil, accumulation: 2)
            let two = try first("two-ranks", ranks: 2, accumulation: 1)
            XCTAssertEqual(one?.task, task)
            XCTAssertEqual(two?.task, task)
            XCTAssertEqual(two?.loss.bitPattern, one?.loss.bitPattern, "seed \(seed): loss \(String(describing: two?.loss)) vs \(String(describing: one?.loss))")
            XCTAssertEqual(two?.terms?.mapValues(\.bitPattern), one?.terms?.mapValues(\.bitPattern), "seed \(seed): loss terms")
            XCTAssertNotNil(two?.terms, "seed \(seed): the terms must be summed over the ranks")
            if !extra.isEmpty { XCTAssertNotNil(two?.terms?["attention"], "the intermediate terms are logged") }
        }
    }
}
