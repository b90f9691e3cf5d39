import ArgumentParser
import Kernels

/// The options every benchmark takes: worker threads and the batch shape (MiniLM-L6 defaults, 8 × 384).
struct BenchShapeOptions: ParsableArguments {
    @Option(help: "Worker threads for the kernels and BLAS.")
    var threads: Int = 2

    @Option(help: "Sequences per batch.")
    var batch: Int = 8

    @Option(help: "Tokens per sequence.")
    var seqLen: Int = 384

    /// Gives the kernels' worker pool and BLAS `threads` threads, and waits until OpenBLAS's own threads have
    /// stopped spinning (`BLAS.waitForIdleThreads`): nothing is timed beside them.
    func applyThreads() {
        Parallelism.workers = threads
        BLAS.setThreads(threads)
        BLAS.waitForIdleThreads()
    }
}
