import Foundation
import TestSupport
import XCTest
@testable import Training

/// `mpirun -np 2 mrc-distill train` (scripts/mpirun-local) against one process, on the tiny fixture
/// model: the same passes, the same loss curve up to float summation order, and resume after a rank
/// is killed. Needs Open MPI's mpirun (`make setup` installs it); without it the tests fail.
final class DataParallelTests: XCTestCase {
    func trainArguments(out: URL, steps: Int = 10, accumulation: Int = 1, dropout: String = "0",
                        checkpointEvery: Int = 100, extra: [String] = []) -> [String] {
        ["train", "--model", TestPaths.fixture("training/tiny_qa_parity").path,
         "--train", TestPaths.fixture("training/tiny_squad.json").path, "--out", out.path,
         "--max-seq-len", "32", "--doc-stride", "8", "--max-query-len", "8", "--batch-size", "8",
         "--gradient-accumulation", "\(accumulation)", "--max-steps", "\(steps)", "--checkpoint-every", "\(checkpointEvery)",
         "--learning-rate", "1e-3", "--dropout", dropout, "--seed", "7", "--threads", "1", "--no-progress"] + extra
    }

    func losses(_ out: URL) throws -> [Double] {
        try MetricsLog.read(out.appendingPathComponent("metrics.jsonl")).map(\.loss)
    }

    func train(_ name: String, in root: URL, ranks: Int? = nil, _ arguments: (URL) -> [String]) throws -> URL {
        let out = root.appendingPathComponent(name)
        let result = try CLIProcess.run(arguments(out), logDirectory: root, name: name, ranks: ranks)
        XCTAssertEqual(result.status, 0, "\(name): \(result.stderr)")
        return out
    }

    /// Two ranks on the global batch of 8 against one process.
    ///
    /// Exact part: rank r of micro-batch i runs pass i·2 + r of a one-process run with twice the
    /// gradient accumulation (same 4 rows, padding, loss scale 4/8, dropout and masking seeds), so
    /// before the first update — same weights — the step-1 loss is the same double: each side adds the
    /// same two products, and a two-term sum does not depend on its order. That holds with dropout on.
    ///
    /// Tolerance for the rest of the curve (dropout 0: A, B, C below compute the same mathematical
    /// gradient of the mean span loss over the same 8 windows; they differ only in float rounding):
    ///   A = 1 process, 1 pass of 8 rows; B = 1 process, 2 passes of 4 (accumulated in the gradient
    ///   buffer); C = 2 ranks, 1 pass of 4 each, buffers summed by MPI_Allreduce.
    /// B − A changes the order of every reduction over the batch (GEMM sums over tokens, bias and
    /// LayerNorm parameter sums, the row means); C − B changes only the order of one addition per
    /// gradient element (pass 2's contributions added to pass 1's inside the kernels, or the two
    /// finished buffers added by the allreduce) — a subset of the same kind of perturbation, so
    /// |C − B| ≤ max|B − A| over the run, and by the triangle inequality
    ///     |C_k − A_k| ≤ |C_k − B_k| + |B_k − A_k| ≤ 2 · max_{j ≤ k} |B_j − A_j|.
    /// The measured spread |B − A| is itself checked against the loss scale so that a broken
    /// decomposition cannot hide behind it.
    func testTwoRanksFollowTheOneProcessLossCurve() throws {
        try CLIProcess.requireMPIRun()
        let root = try CLIProcess.temporaryDirectory("data-parallel")
        defer { try? FileManager.default.removeItem(at: root) }
        let a = try losses(train("one-pass", in: root) { trainArguments(out: $0) })
        let b = try losses(train("two-passes", in: root) { trainArguments(out: $0, accumulation: 2) })
        let c = try losses(train("two-ranks", in: root, ranks: 2) { trainArguments(out: $0) })
        XCTAssertEqual([a.count, b.count, c.count], [10, 10, 10])
        guard a.count == 10, b.count == 10, c.count == 10 else { return }
        XCTAssertEqual(c[0].bitPattern, b[0].bitPattern, "step 1: two ranks must run exactly the two passes of accumulation 2")
        XCTAssertLessThan(a.last!, a.first! - 0.05, "the curve must move for the comparison to mean anything")
        var spread = 0.0
        for k in 0..<10 {
            spread = max(spread, abs(b[k] - a[k]))
            XCTAssertLessThan(spread, 1e-4 * a[k], "step \(k + 1): summation order alone moved the loss by \(spread)")
            XCTAssertLessThanOrEqual(abs(c[k] - a[k]), 2 * spread,
                                     "step \(k + 1): two ranks \(c[k]), one process \(a[k]), summation-order spread \(spread)")
        }

        // Dropout on: the masks follow the pass, not the rank, so step 1 is still the same double.
        let bd = try losses(train("two-passes-dropout", in: root) { trainArguments(out: $0, steps: 2, accumulation: 2, dropout: "0.1") })
        let cd = try losses(train("two-ranks-dropout", in: root, ranks: 2) { trainArguments(out: $0, steps: 2, dropout: "0.1") })
        XCTAssertEqual(cd.first?.bitPattern, bd.first?.bitPattern, "with dropout, rank r must draw the masks of pass r")
    }

    /// `--distributed mpi` where libmpi cannot be loaded: a clear error that says what to install, before
    /// any work (no mpirun needed: MRC_MPI_LIBRARY points the loader at a file that does not exist).
    func testMissingOpenMPIIsAClearError() throws {
        let root = try CLIProcess.temporaryDirectory("data-parallel-no-mpi")
        defer { try? FileManager.default.removeItem(at: root) }
        let result = try CLIProcess.run(trainArguments(out: root.appendingPathComponent("run"), extra: ["--distributed", "mpi"]),
                                        environment: ["MRC_MPI_LIBRARY": root.appendingPathComponent("libmpi.so.40").path],
                                        logDirectory: root, name: "no-mpi")
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("--distributed mpi: cannot load Open MPI's \(root.path)/libmpi.so.40"), result.stderr)
        XCTAssertTrue(result.stderr.contains("make setup installs libopenmpi-dev and openmpi-bin"), result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent("run/metrics.jsonl").path))
    }

    /// SIGKILL of rank 1 in the middle of step 7 (rank 0 waiting for it in the step's allreduce): the
    /// job fails within seconds with Open MPI's message naming the rank, checkpoint-4 is the last whole checkpoint, and --resume on 2 ranks ends with the same
    /// weights, EMA and loss curve as an uninterrupted 2-rank run, bit for bit; on 1 rank it resumes too
    /// (the checkpoint does not depend on the number of ranks).
    func testResumeAfterARankIsKilled() throws {
        try CLIProcess.requireMPIRun()
        let root = try CLIProcess.temporaryDirectory("data-parallel-kill")
        defer { try? FileManager.default.removeItem(at: root) }
        func arguments(_ out: URL) -> [String] {
            trainArguments(out: out, steps: 12, dropout: "0.1", checkpointEvery: 4, extra: ["--ema-decay", "0.9"])
        }
        let straight = try train("straight", in: root, ranks: 2, arguments)
        let expected = try MetricsLog.read(straight.appendingPathComponent("metrics.jsonl"))

        let killed = root.appendingPathComponent("killed")
        let pause = [FaultInjection.environmentVariable: "7", FaultInjection.rankVariable: "1"]
        let (job, _, errURL) = try CLIProcess.start(arguments(killed), environment: pause, logDirectory: root, name: "killed", ranks: 2)
        let marker = FaultInjection.marker(outputDirectory: killed, step: 7, rank: 1)
        var pid: pid_t? = nil
        let deadline = Date().addingTimeInterval(120)
        while pid == nil && job.isRunning && Date() < deadline {
            pid = (try? String(contentsOf: marker, encoding: .utf8)).flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            if pid == nil { usleep(20_000) }
        }
        guard let pid else {
            job.terminate()
            return XCTFail("rank 1 never paused in step 7: \((try? String(contentsOf: errURL, encoding: .utf8)) ?? "")")
        }
        let killedAt = Date()
        kill(pid, SIGKILL)
        job.waitUntilExit()
        XCTAssertLessThan(Date().timeIntervalSince(killedAt), 60, "the other rank must not wait for the dead one")
        XCTAssertNotEqual(job.terminationStatus, 0)
        let stderr = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
        XCTAssertTrue(stderr.contains("rank 1") && stderr.contains("signal 9"), "mpirun must say which rank died how: \(stderr)")
        let store = CheckpointStore(outputDirectory: killed)
        XCTAssertEqual(store.checkpoints().map(\.step), [4], "checkpoint-4 must be the only, whole checkpoint")
        if let latest = store.latest {
            let state = try JSONDecoder().decode(TrainerState.self,
                                                 from: Data(contentsOf: latest.url.appendingPathComponent(CheckpointStore.stateFile)))
            XCTAssertEqual(state.step, 4)
            let buffers = (0..<3).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: state.parameterCount) }
            defer { buffers.forEach { $0.deallocate() } }
            XCTAssertNoThrow(try store.read(latest.url, firstMoment: buffers[0], secondMoment: buffers[1], emaShadow: buffers[2]))
        }

        let copy = root.appendingPathComponent("killed-one-rank")
        try FileManager.default.copyItem(at: killed, to: copy)
        let resumed = try CLIProcess.run(arguments(killed) + ["--resume"], logDirectory: root, name: "resumed", ranks: 2)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("resuming from"), resumed.stderr)
        let trajectory = { (records: [StepMetrics]) in records.map { "\($0.step) \($0.loss.bitPattern) \($0.gradientNorm.bitPattern)" } }
        XCTAssertEqual(trajectory(try MetricsLog.read(killed.appendingPathComponent("metrics.jsonl"))), trajectory(expected))
        for file in ["model.safetensors", "ema.safetensors"] {
            XCTAssertTrue(try Data(contentsOf: straight.appendingPathComponent(file)) == Data(contentsOf: killed.appendingPathComponent(file)),
                          "\(file) differs between the uninterrupted and the resumed 2-rank run")
        }

        let single = try CLIProcess.run(arguments(copy) + ["--resume"], logDirectory: root, name: "resumed-one-rank")
        XCTAssertEqual(single.status, 0, single.stderr)
        XCTAssertTrue(single.stderr.contains("resuming from \(copy.path)/checkpoint-4 at step 4"), single.stderr)
        let one = try MetricsLog.read(copy.appendingPathComponent("metrics.jsonl"))
        XCTAssertEqual(one.map(\.step), Array(1...12))
        XCTAssertEqual(trajectory(Array(one.prefix(4))), trajectory(Array(expected.prefix(4))))
    }
}
