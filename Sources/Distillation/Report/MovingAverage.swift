/// The smoothing of the report's loss curves.
public enum MovingAverage {
    /// Trailing moving average: element i is the mean of `values[max(0, i - window + 1)...i]`, so the
    /// first `window - 1` points average over fewer values. A window below 1 counts as 1. The input
    /// should be finite (non-finite points are dropped before smoothing, see `finitePoints`).
    public static func trailing(_ values: [Double], window: Int) -> [Double] {
        let window = max(1, window)
        var result: [Double] = []
        result.reserveCapacity(values.count)
        var sum = 0.0
        for (index, value) in values.enumerated() {
            sum += value
            if index >= window { sum -= values[index - window] }
            result.append(sum / Double(min(index + 1, window)))
        }
        return result
    }

    /// The finite points of a series, and how many were not finite.
    public static func finitePoints(steps: [Int], values: [Double]) -> (steps: [Int], values: [Double], dropped: Int) {
        var keptSteps: [Int] = []
        var keptValues: [Double] = []
        for (step, value) in zip(steps, values) where value.isFinite {
            keptSteps.append(step)
            keptValues.append(value)
        }
        return (keptSteps, keptValues, values.count - keptValues.count)
    }
}
