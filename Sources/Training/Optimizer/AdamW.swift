import Foundation
import Kernels

/// Adam with decoupled weight decay, computed as `torch.optim.AdamW` does (single-tensor path):
///
///     p ← p · (1 − lr·wd)                      (decayed segments only)
///     m ← m + (1 − β1)(g − m)                  (torch's lerp)
///     v ← β2·v + (1 − β2)·g²
///     p ← p − (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε)
///
/// One pass over the flat parameter buffer; the moments `m`, `v` share its layout and are owned
/// here (allocated once). Nothing is allocated per step.
public final class AdamW: @unchecked Sendable {
    public struct Hyperparameters: Sendable, Equatable, Codable {
        // Doubles, as PyTorch holds them: `Float(1 - 0.9)` is 0.1, `1 - Float(0.9)` is not.
        public var beta1: Double = 0.9
        public var beta2: Double = 0.999
        public var epsilon: Double = 1e-8
        public var weightDecay: Double = 0.01
        public init(beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8, weightDecay: Double = 0.01) {
            self.beta1 = beta1; self.beta2 = beta2; self.epsilon = epsilon; self.weightDecay = weightDecay
        }
    }

    public let hyperparameters: Hyperparameters
    public let segments: ParameterSegments
    /// Number of updates applied so far (PyTorch's `state["step"]`).
    public private(set) var step: Int = 0
    /// First moment, [count], same layout as the parameters.
    public let firstMoment: UnsafeMutablePointer<Float>
    /// Second moment, [count], same layout as the parameters.
    public let secondMoment: UnsafeMutablePointer<Float>
    public var count: Int { segments.count }

    public init(segments: ParameterSegments, hyperparameters: Hyperparameters = Hyperparameters()) {
        self.segments = segments
        self.hyperparameters = hyperparameters
        firstMoment = .allocate(capacity: max(1, segments.count))
        firstMoment.initialize(repeating: 0, count: max(1, segments.count))
        secondMoment = .allocate(capacity: max(1, segments.count))
        secondMoment.initialize(repeating: 0, count: max(1, segments.count))
    }

    deinit {
        firstMoment.deallocate()
        secondMoment.deallocate()
    }

    /// Restores the step counter and both moments from a checkpoint.
    public func restore(step: Int, firstMoment m: UnsafePointer<Float>, secondMoment v: UnsafePointer<Float>) {
        self.step = step
        firstMoment.update(from: m, count: count)
        secondMoment.update(from: v, count: count)
    }

    /// Applies one update to `parameters` [count] from `gradients` [count] at `learningRate`.
    public func update(parameters: UnsafeMutablePointer<Float>, gradients: UnsafePointer<Float>, learningRate: Double) {
        step += 1
        let h = hyperparameters
        let t = Double(step)
        let biasCorrection1 = 1.0 - pow(h.beta1, t)
        let biasCorrection2 = 1.0 - pow(h.beta2, t)
        let coefficients = Coefficients(
            decayFactor: Float(1.0 - learningRate * h.weightDecay),
            oneMinusBeta1: Float(1.0 - h.beta1),
            beta2: Float(h.beta2),
            oneMinusBeta2: Float(1.0 - h.beta2),
            sqrtBiasCorrection2: Float(biasCorrection2.squareRoot()),
            epsilon: Float(h.epsilon),
            stepSize: Float(learningRate / biasCorrection1))
        let p = SendablePointer(parameters), g = SendablePointer(gradients)
        let m = SendablePointer(firstMoment), v = SendablePointer(secondMoment)
        for segment in segments.segments {
            let decays = segment.decays && h.weightDecay != 0
            // Element-wise: the result does not depend on how the range is split over workers.
            parallelFor(count: segment.range.count, minimumWork: 1 << 18) { chunk in
                let start = segment.range.lowerBound + chunk.lowerBound
                AdamW.updateRange(p: p.pointer + start, g: g.pointer + start, m: m.pointer + start, v: v.pointer + start,
                                  count: chunk.count, decays: decays, c: coefficients)
            }
        }
    }

    struct Coefficients {
        var decayFactor, oneMinusBeta1, beta2, oneMinusBeta2, sqrtBiasCorrection2, epsilon, stepSize: Float
    }

    @inline(__always)
    static func updateRange(p: UnsafeMutablePointer<Float>, g: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>,
                            v: UnsafeMutablePointer<Float>, count: Int, decays: Bool, c: Coefficients) {
        typealias V = SIMD16<Float>
        let lanes = 16
        var i = 0
        let decayFactor = decays ? c.decayFactor : 1
        while i + lanes <= count {
            let gi = UnsafeRawPointer(g + i).loadUnaligned(as: V.self)
            var mi = UnsafeRawPointer(m + i).loadUnaligned(as: V.self)
            var vi = UnsafeRawPointer(v + i).loadUnaligned(as: V.self)
            var pi = UnsafeRawPointer(p + i).loadUnaligned(as: V.self)
            if decays { pi = pi * decayFactor }
            mi = mi + c.oneMinusBeta1 * (gi - mi)
            vi = vi * c.beta2 + c.oneMinusBeta2 * (gi * gi)
            let denominator = vi.squareRoot() / c.sqrtBiasCorrection2 + c.epsilon
            pi = pi - c.stepSize * (mi / denominator)
            UnsafeMutableRawPointer(m + i).storeBytes(of: mi, as: V.self)
            UnsafeMutableRawPointer(v + i).storeBytes(of: vi, as: V.self)
            UnsafeMutableRawPointer(p + i).storeBytes(of: pi, as: V.self)
            i += lanes
        }
        while i < count {
            let gi = g[i]
            var pi = p[i]
            if decays { pi *= decayFactor }
            let mi = m[i] + c.oneMinusBeta1 * (gi - m[i])
            let vi = v[i] * c.beta2 + c.oneMinusBeta2 * (gi * gi)
            pi -= c.stepSize * (mi / (vi.squareRoot() / c.sqrtBiasCorrection2 + c.epsilon))
            m[i] = mi; v[i] = vi; p[i] = pi
            i += 1
        }
    }
}
