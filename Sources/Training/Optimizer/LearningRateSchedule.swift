/// Linear warmup from 0 to the peak learning rate, then linear decay to 0 at the last step —
/// exactly `transformers.get_linear_schedule_with_warmup` stepped once after every optimizer step.
///
/// `learningRate(atStep: s)` is the rate used by the optimizer update number `s + 1` (s = 0, 1, …):
/// as in PyTorch, the very first update runs at rate 0 when there is any warmup.
public struct LearningRateSchedule: Sendable, Equatable, Codable {
    public let peak: Double
    public let warmupSteps: Int
    public let totalSteps: Int

    public init(peak: Double, warmupSteps: Int, totalSteps: Int) {
        self.peak = peak
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
    }

    /// Warmup over `ceil(warmupRatio × totalSteps)` steps, as the Hugging Face Trainer rounds it.
    public init(peak: Double, warmupRatio: Double, totalSteps: Int) {
        self.init(peak: peak, warmupSteps: Int((warmupRatio * Double(totalSteps)).rounded(.up)), totalSteps: totalSteps)
    }

    /// The learning rate for the update that follows `step` completed updates.
    public func learningRate(atStep step: Int) -> Double {
        if step < warmupSteps {
            return peak * Double(step) / Double(max(1, warmupSteps))
        }
        return peak * max(0.0, Double(totalSteps - step) / Double(max(1, totalSteps - warmupSteps)))
    }
}
