import Foundation

/// A test hook for proving exact resume: with `MRC_DISTILL_PAUSE_IN_STEP=N` in the environment, a
/// training run stops in the middle of step N (gradients computed, weights not yet updated, and in a
/// data-parallel run before the gradients are summed), creates a marker holding its process id and
/// sleeps, so that a test can SIGKILL it (or one rank of an MPI job) at that point. The marker is
/// `OUT/.paused-in-step-N` for rank 0 and `OUT/.paused-in-step-N-rank-R` for rank R > 0. With
/// `MRC_DISTILL_PAUSE_RANK=R` only rank R pauses; the others go on into the step's allreduce and wait
/// there. Without the variables nothing happens.
public enum FaultInjection {
    public static let environmentVariable = "MRC_DISTILL_PAUSE_IN_STEP"
    public static let rankVariable = "MRC_DISTILL_PAUSE_RANK"

    /// The marker file rank `rank` creates when it pauses in step `step`.
    public static func marker(outputDirectory: URL, step: Int, rank: Int = 0) -> URL {
        outputDirectory.appendingPathComponent(".paused-in-step-\(step)" + (rank == 0 ? "" : "-rank-\(rank)"))
    }

    /// The hook for `Trainer.insideStep` that the environment asks for, or nil.
    public static func pauseHook(outputDirectory: URL, rank: Int = 0,
                                 environment: [String: String] = ProcessInfo.processInfo.environment) -> ((Int) -> Void)? {
        guard let value = environment[environmentVariable], let pauseStep = Int(value) else { return nil }
        if let only = environment[rankVariable].flatMap({ Int($0) }), only != rank { return nil }
        return { step in
            guard step == pauseStep else { return }
            let marker = marker(outputDirectory: outputDirectory, step: step, rank: rank)
            FileManager.default.createFile(atPath: marker.path, contents: Data("\(getpid())\n".utf8))
            sleep(600)
        }
    }
}
