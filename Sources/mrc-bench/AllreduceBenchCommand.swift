import ArgumentParser
import Foundation
import Training

/// `mpirun -np N mrc-bench allreduce --floats F`: the time of the gradient allreduce of a data-parallel
/// step (one in-place MPI_Allreduce sum of F floats, as `Trainer` does), for docs/SCALING.md's
/// ring-allreduce extrapolation. Rank 0 prints one JSON line: size, bytes, and the median, min and
/// max seconds over the repetitions (after warm-up), each timed between barriers.
struct AllreduceBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "allreduce",
        abstract: "Time the per-step gradient allreduce (run under mpirun; see scripts/scaling-measure).")

    @Option(help: "Floats per allreduce (a model's parameter count).") var floats: Int
    @Option(help: "Timed repetitions.") var repeats = 20
    @Option(help: "Untimed repetitions first.") var warmup = 3

    func validate() throws {
        guard floats > 0, repeats > 0, warmup >= 0 else { throw ValidationError("--floats and --repeats must be positive") }
    }

    func run() throws {
        let world = try MPICommunicator()
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: floats)
        defer { buffer.deallocate() }
        buffer.initialize(repeating: 1e-3, count: floats)
        var seconds: [Double] = []
        for repetition in 0..<(warmup + repeats) {
            try world.barrier()
            let start = DispatchTime.now().uptimeNanoseconds
            try world.allreduceSum(buffer, count: floats)
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if repetition >= warmup { seconds.append(elapsed) }
        }
        // Every rank's time counts: a step waits for the slowest.
        var slowest = [Double](repeating: 0, count: world.size * seconds.count)
        for (index, value) in seconds.enumerated() { slowest[world.rank * seconds.count + index] = value }
        try world.allreduceSum(&slowest)
        let perRepetition = seconds.indices.map { index in (0..<world.size).map { slowest[$0 * seconds.count + index] }.max()! }
        if world.rank == 0 {
            let sorted = perRepetition.sorted()
            print(String(format: "{\"ranks\": %d, \"floats\": %d, \"bytes\": %d, \"median_s\": %.9f, \"min_s\": %.9f, \"max_s\": %.9f}",
                         world.size, floats, floats * 4, sorted[sorted.count / 2], sorted.first!, sorted.last!))
        }
        try world.finalize()
    }
}
