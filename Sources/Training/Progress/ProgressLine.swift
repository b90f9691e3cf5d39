import Foundation

/// The live progress line on a terminal: step, loss, tokens/s and ETA, redrawn in place on stderr
/// at most a few times a second. When stderr is not a terminal (a log file, a pipe) it prints
/// nothing: the metrics log is the record there.
public final class ProgressLine {
    public let totalSteps: Int
    public let isEnabled: Bool
    private var lastDraw: Double = 0
    private let startTime: Double
    private let startStep: Int

    /// `startStep` is where a resumed run begins, so the ETA counts only steps run here.
    public init(totalSteps: Int, startStep: Int = 0, enabled: Bool? = nil) {
        self.totalSteps = totalSteps
        self.startStep = startStep
        self.isEnabled = enabled ?? (isatty(STDERR_FILENO) != 0)
        startTime = ProgressLine.now()
    }

    /// The text of the line for `metrics` (no terminal control characters).
    public func text(for metrics: StepMetrics, averageLoss: Double) -> String {
        let elapsed = ProgressLine.now() - startTime
        let done = metrics.step - startStep
        let remaining = totalSteps - metrics.step
        let eta = done > 0 ? elapsed / Double(done) * Double(remaining) : 0
        let percent = totalSteps > 0 ? 100.0 * Double(metrics.step) / Double(totalSteps) : 100
        return String(format: "step %d/%d (%.1f%%) | loss %.4f (avg %.4f) | lr %.2e | %.0f tok/s | ETA %@",
                      metrics.step, totalSteps, percent, metrics.loss, averageLoss, metrics.learningRate,
                      metrics.tokensPerSecond, ProgressLine.clock(eta))
    }

    /// Redraws the line (throttled to 4 per second; the last step always draws).
    public func update(_ metrics: StepMetrics, averageLoss: Double) {
        guard isEnabled else { return }
        let now = ProgressLine.now()
        guard now - lastDraw >= 0.25 || metrics.step == totalSteps else { return }
        lastDraw = now
        FileHandle.standardError.write(Data(("\r\u{1B}[2K" + text(for: metrics, averageLoss: averageLoss)).utf8))
    }

    /// Ends the line so later output starts on a fresh one.
    public func finish() {
        guard isEnabled else { return }
        FileHandle.standardError.write(Data("\n".utf8))
    }

    /// `h:mm:ss` for a duration in seconds.
    public static func clock(_ seconds: Double) -> String {
        let total = Int(max(0, seconds).rounded())
        return String(format: "%d:%02d:%02d", total / 3600, total / 60 % 60, total % 60)
    }

    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
    }
}
