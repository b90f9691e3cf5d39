import ArgumentParser
import Kernels

/// `mrc-bench kernels`: per-kernel timings at the MiniLM-L6 batch shapes.
struct KernelsBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernels",
        abstract: "Time each kernel at MiniLM-L6 shapes (batch 8 × 384 tokens)."
    )

    @Option(help: "Worker threads for the kernels and BLAS.")
    var threads: Int = 2

    @Option(help: "Sequences per batch.")
    var batch: Int = 8

    @Option(help: "Tokens per sequence.")
    var seqLen: Int = 384

    @Option(help: "Only kernels whose name contains this.")
    var only: String?

    @Flag(help: "Measure process CPU time per worker instead of wall time (for a busy machine).")
    var cpuTime = false

    func run() throws {
        KernelBenchmarks.measuresCPUTime = cpuTime
        Parallelism.workers = threads
        BLAS.setThreads(threads)
        print("kernels, \(threads) threads, batch \(batch) x \(seqLen), OpenBLAS kernels \(BLAS.coreName ?? "n/a")")
        for result in KernelBenchmarks.all(batch: batch, seqLen: seqLen, matching: only) { print(result) }
    }
}
