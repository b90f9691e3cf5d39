import Foundation
import Kernels

/// Exponential moving average of the weights, as D-NET (PaddlePaddle's ExponentialMovingAverage) kept it:
/// the shadow starts at **zero** and is updated after every optimizer step,
///
///     shadow ← decay · shadow + (1 − decay) · w,
///
/// and the weights used for prediction are bias-corrected, `shadow / (1 − decayᵗ)` after t updates —
/// an unbiased average even early in training, when a zero-started shadow is still mostly zero.
public final class EMA: @unchecked Sendable {
    public let decay: Double
    public let count: Int
    /// Number of updates folded into the shadow.
    public private(set) var updates: Int = 0
    /// The shadow weights [count], same layout as the parameters (not bias-corrected).
    public let shadow: UnsafeMutablePointer<Float>

    public init(decay: Double, count: Int) throws {
        guard decay > 0, decay < 1 else {
            throw TrainingError.invalidArgument("--ema-decay must be in (0, 1), got \(decay)")
        }
        self.decay = decay
        self.count = count
        shadow = .allocate(capacity: max(1, count))
        shadow.initialize(repeating: 0, count: max(1, count))
    }

    deinit { shadow.deallocate() }

    /// Restores a saved shadow after `updates` updates.
    public func restore(updates: Int, shadow saved: UnsafePointer<Float>) {
        self.updates = updates
        if UnsafePointer(shadow) != saved { shadow.update(from: saved, count: count) }
    }

    /// Folds the current `weights` [count] into the shadow.
    public func update(weights: UnsafePointer<Float>) {
        updates += 1
        let keep = Float(decay)
        let take = Float(1.0 - decay)
        let shadowBox = SendablePointer(shadow), weightsBox = SendablePointer(weights)
        parallelFor(count: count, minimumWork: 1 << 18) { range in
            let s = shadowBox.pointer + range.lowerBound
            let w = weightsBox.pointer + range.lowerBound
            var i = 0
            while i + 16 <= range.count {
                let si = UnsafeRawPointer(s + i).loadUnaligned(as: SIMD16<Float>.self)
                let wi = UnsafeRawPointer(w + i).loadUnaligned(as: SIMD16<Float>.self)
                UnsafeMutableRawPointer(s + i).storeBytes(of: keep * si + take * wi, as: SIMD16<Float>.self)
                i += 16
            }
            while i < range.count { s[i] = keep * s[i] + take * w[i]; i += 1 }
        }
    }

    /// Writes the bias-corrected average `shadow / (1 − decayᵗ)` into `weights` [count].
    /// Before any update there is nothing to average: this is refused.
    public func writeAverage(into weights: UnsafeMutablePointer<Float>) throws {
        guard updates > 0 else { throw TrainingError.invalidState("the EMA has no updates yet") }
        let correction = Float(1.0 / (1.0 - pow(decay, Double(updates))))
        let outBox = SendablePointer(weights), shadowBox = SendablePointer(shadow)
        parallelFor(count: count, minimumWork: 1 << 18) { range in
            let out = outBox.pointer + range.lowerBound
            let s = shadowBox.pointer + range.lowerBound
            for i in 0..<range.count { out[i] = s[i] * correction }
        }
    }
}
