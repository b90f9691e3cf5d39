import ArgumentParser
import Checkpoint
import Foundation
import Kernels
import Model
import Training

/// `mrc-bench engine`: the Swift side of the PyTorch comparison (scripts/bench_pytorch.py is the twin):
/// MiniLM-L6 with a span head, forward / forward+backward (dropout off) / AdamW training step (dropout on).
struct EngineBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "Time the BERT engine: forward, forward+backward, training step; print JSON."
    )

    @Option(help: "Model directory (all-MiniLM-L6-v2; `bash scripts/minilm-dir`).")
    var model: String

    @Option(help: "Worker threads for the kernels and BLAS.")
    var threads: Int = 2

    @Option(help: "Sequences per batch.")
    var batch: Int = 8

    @Option(help: "Tokens per sequence.")
    var seqLen: Int = 384

    @Option(help: "Untimed runs before timing each phase.")
    var warmup: Int = 1

    @Option(help: "Timed runs of each phase.")
    var repeats: Int = 5

    @Option(parsing: .upToNextOption, help: "Phases to time: forward, forward_backward, train_step.")
    var phases: [String] = ["forward", "forward_backward", "train_step"]

    func run() throws {
        Parallelism.workers = threads
        BLAS.setThreads(threads)
        let loaded = try ModelDirectory.load(URL(fileURLWithPath: model), spanHead: .initialiseIfMissing(seed: 0))
        let bert = loaded.model
        let config = bert.config
        let inputs = try EncoderBatch(batch: batch, seqLen: seqLen,
                                      inputIds: benchInputIds(batch: batch, seqLen: seqLen, vocab: config.vocabSize))
        let starts = (0..<batch).map { Int32((7 * $0) % seqLen) }
        let ends = (0..<batch).map { Int32((7 * $0 + 5) % seqLen) }
        let segments = try ParameterSegments(tensors: bert.layout.entries.map { ($0.name, $0.range, $0.decays) },
                                             total: bert.parameters.count)
        let optimizer = AdamW(segments: segments)

        var results: [String: Any] = ["engine": "swift mrc-distill", "threads": threads, "batch": batch, "seq_len": seqLen]
        let sgemm = KernelBenchmarks.sgemm(rows: batch * seqLen, inFeatures: config.hiddenSize,
                                           outFeatures: config.intermediateSize)
        results["sgemm_gflops"] = sgemm.flops / sgemm.seconds / 1e9
        results["forward_gflop"] = forwardFlops(config) / 1e9
        if phases.contains("forward") {
            results["forward"] = try timed { _ = try bert.forward(inputs) }
        }
        if phases.contains("forward_backward") {
            results["forward_backward"] = try timed {
                _ = try bert.spanLossStep(inputs, startPositions: starts, endPositions: ends)
            }
        }
        var step: UInt64 = 0
        if phases.contains("train_step") {
            results["train_step"] = try timed {
                step += 1
                bert.zeroGradients()
                _ = try bert.spanLossStep(inputs, startPositions: starts, endPositions: ends, dropoutSeed: step)
                optimizer.update(parameters: bert.parameters.pointer, gradients: bert.gradients.pointer, learningRate: 3e-5)
            }
        }
        results["peak_rss_mb"] = peakResidentMegabytes()
        let json = try JSONSerialization.data(withJSONObject: results, options: [.sortedKeys])
        print(String(decoding: json, as: UTF8.self))
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
        let sorted = runs.sorted()
        return ["best": sorted[0], "median": sorted[sorted.count / 2], "runs": runs]
    }

    /// Multiply-adds × 2 of one forward: per token and layer the four linear layers and the two
    /// attention products (scores and weighted values); embeddings and elementwise work are not counted.
    func forwardFlops(_ config: BertConfig) -> Double {
        let C = Double(config.hiddenSize), I = Double(config.intermediateSize), T = Double(seqLen)
        let linear: Double = 2 * (4 * C * C + 2 * C * I)
        let attention: Double = 4 * T * C
        let tokens = Double(batch * seqLen)
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
