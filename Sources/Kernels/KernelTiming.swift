import Foundation

/// How the kernel benchmarks time a call: best of a few runs, or two variants alternating run by run.
extension KernelBenchmarks {
    /// What `time` measures: wall-clock seconds, or the CPU seconds of the whole process divided by
    /// the number of workers (steadier than wall time on a machine shared with other jobs).
    nonisolated(unsafe) public static var measuresCPUTime = false

    /// Best of `repeats` timings of `body` after one warm-up call.
    public static func time(repeats: Int = 5, _ body: () -> Void) -> Double {
        body()
        var best = Double.infinity
        for _ in 0..<repeats {
            let start = now()
            body()
            best = min(best, now() - start)
        }
        return best
    }

    /// `repeats` timings each of `body` with `set(true)` and with `set(false)`, alternating run by run after `warmup`
    /// runs of each (a shared machine's slow phases fall on both alike); `set(restoring)` afterwards.
    public static func timeAlternating(warmup: Int = 1, repeats: Int = 40, restoring: Bool, set: (Bool) -> Void,
                                       _ body: () throws -> Void) rethrows -> (on: [Double], off: [Double]) {
        defer { set(restoring) }
        var on: [Double] = [], off: [Double] = []
        for run in 0..<2 * (warmup + repeats) {
            set(run % 2 == 0)
            let start = now()
            try body()
            let seconds = now() - start
            if run >= 2 * warmup { if run % 2 == 0 { on.append(seconds) } else { off.append(seconds) } }
        }
        return (on, off)
    }

    static func now() -> Double {
        if measuresCPUTime {
            var spec = timespec()
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &spec)
            return (Double(spec.tv_sec) + Double(spec.tv_nsec) * 1e-9) / Double(max(1, Parallelism.workers))
        }
        return Double(DispatchTime.now().uptimeNanoseconds) * 1e-9
    }
}
