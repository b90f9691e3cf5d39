import Foundation

/// A test hook for proving exact resume: with `MRC_DISTILL_PAUSE_IN_STEP=N` in the environment, a
/// training run stops in the middle of step N (gradients computed, weights not yet updated),
/// creates `OUT/.paused-in-step-N` and sleeps, so that a test can SIGKILL it at that point.
/// Without the variable nothing happens.
public enum FaultInjection {
    public static let environmentVariable = "MRC_DISTILL_PAUSE_IN_STEP"

    /// The hook for `Trainer.insideStep` that the environment asks for, or nil.
    public static func pauseHook(outputDirectory: URL,
                                 environment: [String: String] = ProcessInfo.processInfo.environment) -> ((Int) -> Void)? {
        guard let value = environment[environmentVariable], let pauseStep = Int(value) else { return nil }
        return { step in
            guard step == pauseStep else { return }
            let marker = outputDirectory.appendingPathComponent(".paused-in-step-\(step)")
            FileManager.default.createFile(atPath: marker.path, contents: nil)
            sleep(600)
        }
    }
}
