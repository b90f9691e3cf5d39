import ArgumentParser
import Kernels

/// `mrc-bench kernels`: per-kernel timings at the MiniLM-L6 batch shapes.
struct KernelsBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernels",
        abstract: "Time each kernel at MiniLM-L6 shapes (batch 8 × 384 tokens)."
    )

    @OptionGroup var shape: BenchShapeOptions

    @Option(help: "Only kernels whose name contains this.")
    var only: String?

    @Flag(help: "Measure process CPU time per worker instead of wall time (for a busy machine).")
    var cpuTime = false

    @Flag(help: ArgumentHelp("Time the fused bf16 attention kernels with and without the next head's prefetching, call "
                             + "by call in turn (medians of 40 each)."))
    var alternatingPrefetch = false

    func run() throws {
        KernelBenchmarks.measuresCPUTime = cpuTime
        shape.applyThreads()
        print("kernels, \(shape.threads) threads, batch \(shape.batch) x \(shape.seqLen), OpenBLAS kernels \(BLAS.coreName ?? "n/a")")
        let results = KernelBenchmarks.all(batch: shape.batch, seqLen: shape.seqLen, matching: only,
                                           alternatingPrefetch: alternatingPrefetch)
        for result in results { print(result) }
    }
}
