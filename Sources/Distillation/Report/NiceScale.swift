import Foundation

/// A linear axis scale with "nice" round ticks (steps of 1, 2 or 5 × 10ⁿ) that covers a data range.
public struct NiceScale: Sendable, Equatable {
    public var lower: Double
    public var upper: Double
    public var step: Double

    /// - Parameters: `minimum`…`maximum`: the data range (finite); `targetTicks`: about how many ticks.
    ///   An empty range is widened around its value.
    public init(minimum: Double, maximum: Double, targetTicks: Int = 6) {
        var low = min(minimum, maximum)
        var high = max(minimum, maximum)
        if high - low < 1e-12 * max(1, abs(high)) {
            let pad = abs(high) > 0 ? abs(high) * 0.1 : 1
            low -= pad
            high += pad
        }
        let rough = (high - low) / Double(max(1, targetTicks - 1))
        let magnitude = pow(10, floor(log10(rough)))
        let residual = rough / magnitude
        let nice: Double = residual <= 1 ? 1 : residual <= 2 ? 2 : residual <= 5 ? 5 : 10
        step = nice * magnitude
        lower = floor(low / step + 1e-9) * step
        upper = ceil(high / step - 1e-9) * step
    }

    /// The tick values from `lower` to `upper`, every `step`.
    public var ticks: [Double] {
        let count = Int(((upper - lower) / step).rounded())
        return (0...count).map { lower + Double($0) * step }
    }

    /// Where `value` falls between `start` (at `lower`) and `end` (at `upper`).
    public func map(_ value: Double, from start: Double, to end: Double) -> Double {
        start + (value - lower) / (upper - lower) * (end - start)
    }
}
