/// Errors of the training stage; each description names the file, argument or value at fault.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    /// A command-line argument or configuration value that cannot work (refused before any work starts).
    case invalidArgument(String)
    /// A saved training state that is unreadable or does not fit the model being trained.
    case invalidState(String)
    /// The loss or the gradients stopped being finite; training stopped at `step`.
    case nonFinite(step: Int, what: String, lastCheckpoint: String?)
    /// A file could not be written.
    case io(String)

    public var description: String {
        switch self {
        case .invalidArgument(let message): return "invalid argument: \(message)"
        case .invalidState(let message): return "invalid training state: \(message)"
        case .nonFinite(let step, let what, let checkpoint):
            let kept = checkpoint.map { "the last good checkpoint is kept at \($0)" } ?? "no checkpoint had been written yet"
            return "training stopped at step \(step): \(what) is not finite (NaN or Inf); \(kept). "
                + "Lower the learning rate or check the data."
        case .io(let message): return "I/O error: \(message)"
        }
    }
}
