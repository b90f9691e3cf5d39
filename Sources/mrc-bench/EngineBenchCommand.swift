import ArgumentParser
import Checkpoint
import Foundation
import Kernels
import Model
import Training

extension Precision: ExpressibleByArgument {}

/// `mrc-bench engine`: the Swift side of the PyTorch comparison (scripts/bench_pytorch.py is the twin):
/// MiniLM-L6 with a span head, inference forward / forward+backward (dropout off) / AdamW training step (dropout on).
struct EngineBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "Time the BERT engine: forward, forward+backward, training step; print JSON."
    )

    @Option(help: "Model directory (all-MiniLM-L6-v2; `bash scripts/minilm-dir`).")
    var model: String

    @OptionGroup var shape: BenchShapeOptions

    @Option(help: "Untimed runs before timing each phase.")
    var warmup: Int = 1

    @Option(help: "Timed runs of each phase.")
    var repeats: Int = 5

    @Option(parsing: .upToNextOption, help: "Phases to time: forward, forward_backward, train_step.")
    var phases: [String] = ["forward", "forward_backward", "train_step"]

    @Flag(help: "Also time every kernel call of forward+backward (a per-kernel table on stderr and in the JSON).")
    var profile = false

    @Flag(help: ArgumentHelp("Time each phase with and without the attention's prefetching of the next head, run by run in "
                             + "turn (the JSON's phase then holds the runs with it, `<phase>_no_prefetch` those without)."))
    var alternatingPrefetch = false

    @Flag(help: "Leave the large matmuls to BLAS's own threads instead of splitting them over the workers.")
    var blasThreads = false

    @Option(help: "Precision of the encoder's matmuls: fp32, bf16 or int8 (int8: forward only).")
    var precision: Precision = .fp32

    @Flag(help: ArgumentHelp("int8: quantise the activations per token at every call (the dynamic scheme) instead of "
                             + "with static scales calibrated on the bench's own batch."))
    var dynamicInt8 = false

    func run() throws {
        Parallelism.splitsMatmuls = !blasThreads
        shape.applyThreads()
        let loaded = try ModelDirectory.load(URL(fileURLWithPath: model), spanHead: .initialiseIfMissing(seed: 0))
        let bert = loaded.model
        bert.precision = precision
        let config = bert.config
        let inputs = try EncoderBatch(batch: shape.batch, seqLen: shape.seqLen,
                                      inputIds: benchInputIds(batch: shape.batch, seqLen: shape.seqLen,
                                                              vocab: config.vocabSize))
        if precision == .int8, !dynamicInt8 {
            bert.int8Calibration = try bert.calibrateInt8(batches: [inputs], source: "the bench's batch")
        }
        let starts = (0..<shape.batch).map { Int32((7 * $0) % shape.seqLen) }
        let ends = (0..<shape.batch).map { Int32((7 * $0 + 5) % shape.seqLen) }
        let segments = try ParameterSegments(tensors: bert.layout.entries.map { ($0.name, $0.range, $0.decays) },
                                             total: bert.parameters.count)
        let optimizer = AdamW(segments: segments)

        var results: [String: Any] = ["engine": "swift mrc-distill", "threads": shape.threads,
                                      "batch": shape.batch, "seq_len": shape.seqLen,
                                      "blas": BLAS.coreName.map { "OpenBLAS \($0)" } ?? "system BLAS",
                                      "precision": precision.rawValue, "low_precision": LowPrecision.summary,
                                      "int8_scheme": precision != .int8 ? "" : dynamicInt8 ? "dynamic" : "static"]
        // The rates the phases are read against, measured before and after them: each is the better of the two (a
        // rate taken in a slow moment of a shared machine would flatter every fraction of it); both go in the JSON.
        let before = rates(rows: shape.batch * shape.seqLen, config: config)
        results["forward_gflop"] = forwardFlops(config) / 1e9
        if phases.contains("forward") {
            try time("forward", into: &results) { _ = try bert.forward(inputs, forTraining: false) }
        }
        if phases.contains("forward_backward") {
            try time("forward_backward", into: &results) {
                _ = try bert.spanLossStep(inputs, startPositions: starts, endPositions: ends)
            }
        }
        var step: UInt64 = 0
        if phases.contains("train_step") {
            try time("train_step", into: &results) {
                step += 1
                bert.zeroGradients()
                _ = try bert.spanLossStep(inputs, startPositions: starts, endPositions: ends, dropoutSeed: step)
                optimizer.update(parameters: bert.parameters.pointer, gradients: bert.gradients.pointer, learningRate: 3e-5)
            }
        }
        if profile {
            results["profile"] = try profileForwardBackward {
                if phases == ["forward"] {
                    _ = try bert.forward(inputs, forTraining: false)
                } else if phases.contains("train_step") {
                    // The whole step: dropout, the gradients zeroed, the optimizer.
                    step += 1
                    let zeroing = KernelProfile.start()
                    bert.zeroGradients()
                    KernelProfile.stop(zeroing, "zeroGradients")
                    _ = try bert.spanLossStep(inputs, startPositions: starts, endPositions: ends, dropoutSeed: step)
                    let update = KernelProfile.start()
                    optimizer.update(parameters: bert.parameters.pointer, gradients: bert.gradients.pointer, learningRate: 3e-5)
                    KernelProfile.stop(update, "AdamW")
                } else {
                    _ = try bert.spanLossStep(inputs, startPositions: starts, endPositions: ends)
                }
            }
        }
        // With --blas-threads the phases ran OpenBLAS on its own threads, which spin for a while after each call.
        if !Parallelism.splitsMatmuls { Thread.sleep(forTimeInterval: 0.3) }
        let after = rates(rows: shape.batch * shape.seqLen, config: config)
        for (key, rate) in before {
            results[key] = max(rate, after[key] ?? rate)
            results[key + "_before_after"] = [rate, after[key] ?? rate]
        }
        if let unit = BF16PeakUnit.here { results["bf16_peak_unit"] = unit.rawValue }
        results["peak_rss_mb"] = peakResidentMegabytes()
        let json = try JSONSerialization.data(withJSONObject: results, options: [.sortedKeys])
        print(String(decoding: json, as: UTF8.self))
    }

    /// GFLOP/s of the bf16 matmul (plain and packed weight) and sgemm at the first feed-forward matmul's shape, and
    /// the processor's bf16 dot-product peak where it has a bf16 unit. sgemm goes last: with --blas-threads it wakes
    /// OpenBLAS's threads, which would spin beside the others.
    func rates(rows: Int, config: BertConfig) -> [String: Double] {
        var rates: [String: Double] = [:]
        if let peak = KernelBenchmarks.bf16Peak() { rates["bf16_peak_gflops"] = peak.flops / peak.seconds / 1e9 }
        let bf16 = KernelBenchmarks.bf16Matmul(rows: rows, inFeatures: config.hiddenSize, outFeatures: config.intermediateSize)
        let packed = KernelBenchmarks.bf16Matmul(rows: rows, inFeatures: config.hiddenSize, outFeatures: config.intermediateSize,
                                                 packed: true)
        let sgemm = KernelBenchmarks.sgemm(rows: rows, inFeatures: config.hiddenSize, outFeatures: config.intermediateSize)
        rates["bf16_matmul_gflops"] = bf16.flops / bf16.seconds / 1e9
        rates["bf16_packed_matmul_gflops"] = packed.flops / packed.seconds / 1e9
        rates["sgemm_gflops"] = sgemm.flops / sgemm.seconds / 1e9
        return rates
    }

    /// Per-kernel time of `repeats` runs of `body` (after one untimed run), as JSON rows; prints a table
    /// to stderr.
    func profileForwardBackward(_ body: () throws -> Void) rethrows -> [[String: Any]] {
        try body()
        KernelProfile.reset()
        KernelProfile.enabled = true
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<repeats { try body() }
        let total = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9 / Double(repeats)
        KernelProfile.enabled = false
        var rows: [[String: Any]] = []
        var table = String(format: "%.3f s per run; per kernel (ms per run, share, GFLOP/s):\n", total)
        var counted = 0.0
        for entry in KernelProfile.report {
            let seconds = entry.seconds / Double(repeats)
            counted += seconds
            let gflops = entry.flops > 0 ? entry.flops / entry.seconds / 1e9 : 0
            rows.append(["name": entry.name, "calls": entry.calls / repeats, "ms": seconds * 1e3, "gflops": gflops])
            table += "  " + entry.name.padding(toLength: 44, withPad: " ", startingAt: 0)
            table += String(format: " %4d calls %9.2f ms %5.1f%%", entry.calls / repeats, seconds * 1e3, 100 * seconds / total)
            table += gflops > 0 ? String(format: " %7.1f\n", gflops) : "\n"
        }
        table += "  " + "outside kernels".padding(toLength: 44, withPad: " ", startingAt: 0)
        table += String(format: "            %9.2f ms %5.1f%%\n", (total - counted) * 1e3, 100 * (total - counted) / total)
        FileHandle.standardError.write(Data(table.utf8))
        rows.append(["name": "outside kernels", "calls": 0, "ms": (total - counted) * 1e3, "gflops": 0])
        return rows
    }

    /// Best and median seconds of `repeats` runs after `warmup` runs.
    func timed(_ body: () throws -> Void) rethrows -> [String: Any] {
        for _ in 0..<warmup { try body() }
        var runs: [Double] = []
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            runs.append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
        }
        return summary(runs)
    }

    /// `timed` with the attention's prefetching on and off in turn, run by run (`--alternating-prefetch`): the two
    /// summaries, `repeats` runs each.
    func timedAlternating(_ body: () throws -> Void) rethrows -> (on: [String: Any], off: [String: Any]) {
        let (on, off) = try KernelBenchmarks.timeAlternating(warmup: warmup, repeats: repeats, restoring: AttentionPrefetch.enabled,
                                                             set: { AttentionPrefetch.enabled = $0 }, body)
        return (summary(on), summary(off))
    }

    private func summary(_ runs: [Double]) -> [String: Any] {
        let sorted = runs.sorted()
        return ["best": sorted[0], "median": sorted[sorted.count / 2], "runs": runs]
    }

    /// Times `phase` into `results` (with `--alternating-prefetch`, also `<phase>_no_prefetch`).
    func time(_ phase: String, into results: inout [String: Any], _ body: () throws -> Void) rethrows {
        guard alternatingPrefetch else { results[phase] = try timed(body); return }
        (results[phase], results[phase + "_no_prefetch"]) = try timedAlternating(body)
    }

    /// Multiply-adds × 2 of one forward: per token and layer the four linear layers and the two
    /// attention products (scores and weighted values); embeddings and elementwise work are not counted.
    func forwardFlops(_ config: BertConfig) -> Double {
        let C = Double(config.hiddenSize), I = Double(config.intermediateSize), T = Double(shape.seqLen)
        let linear: Double = 2 * (4 * C * C + 2 * C * I)
        let attention: Double = 4 * T * C
        let tokens = Double(shape.batch * shape.seqLen)
        let spanHead: Double = 2 * 2 * C
        return tokens * (Double(config.numHiddenLayers) * (linear + attention) + spanHead)
    }
}

/// Deterministic token ids, the same formula as scripts/bench_pytorch.py: [CLS] … [SEP].
func benchInputIds(batch: Int, seqLen: Int, vocab: Int) -> [Int32] {
    var ids: [Int32] = []
    for b in 0..<batch {
        for t in 0..<seqLen {
            ids.append(t == 0 ? 101 : t == seqLen - 1 ? 102 : Int32((b * 7919 + t * 104_729) % (vocab - 1000) + 1000))
        }
    }
    return ids
}

/// This process's peak resident memory (ru_maxrss, kilobytes on Linux) in megabytes.
func peakResidentMegabytes() -> Double {
    var usage = rusage()
    #if canImport(Glibc)
    getrusage(RUSAGE_SELF.rawValue, &usage)
    #else
    getrusage(RUSAGE_SELF, &usage)
    #endif
    #if canImport(Darwin)
    return Double(usage.ru_maxrss) / 1_048_576  // bytes on Darwin
    #else
    return Double(usage.ru_maxrss) / 1024
    #endif
}
