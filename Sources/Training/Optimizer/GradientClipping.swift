import Kernels

/// Global L2-norm clipping over the flat gradient buffer, as `torch.nn.utils.clip_grad_norm_`:
/// every gradient is multiplied by `min(1, maxNorm / (norm + 1e-6))`.
public enum GradientClipping {
    /// The L2 norm of `gradients` [count]. Squares are summed in SIMD lanes per fixed chunk and the
    /// chunks added in Double, in a fixed order: the result does not depend on the thread count.
    public static func globalNorm(_ gradients: UnsafePointer<Float>, count: Int) -> Double {
        let chunkSize = 1 << 18
        let chunks = (count + chunkSize - 1) / chunkSize
        let partials = UnsafeMutablePointer<Double>.allocate(capacity: max(1, chunks))
        defer { partials.deallocate() }
        let box = SendablePointer(partials), source = SendablePointer(gradients)
        // Fixed chunks, whatever the worker count: each partial sum is the same in every run.
        parallelFor(count: chunks, minimumWork: 2) { chunkRange in
            for chunk in chunkRange {
                let start = chunk * chunkSize
                box.pointer[chunk] = sumOfSquares(source.pointer + start, count: min(count, start + chunkSize) - start)
            }
        }
        var total = 0.0
        for chunk in 0..<chunks { total += partials[chunk] }
        return total.squareRoot()
    }

    /// Clips `gradients` in place to global norm `maxNorm` and returns the norm before clipping.
    /// A non-finite norm (a NaN or Inf anywhere) is returned as is and the gradients are left
    /// untouched: the caller must stop rather than update with them.
    @discardableResult
    public static func clip(_ gradients: UnsafeMutablePointer<Float>, count: Int, maxNorm: Double) -> Double {
        let norm = globalNorm(gradients, count: count)
        guard norm.isFinite else { return norm }
        let coefficient = maxNorm / (norm + 1e-6)
        if coefficient < 1 {
            scale(gradients, count: count, by: Float(coefficient))
        }
        return norm
    }

    /// Multiplies `buffer` [count] by `factor` in place.
    public static func scale(_ buffer: UnsafeMutablePointer<Float>, count: Int, by factor: Float) {
        let target = SendablePointer(buffer)
        parallelFor(count: count, minimumWork: 1 << 18) { range in
            let p = target.pointer + range.lowerBound
            var i = 0
            while i + 16 <= range.count {
                let x = UnsafeRawPointer(p + i).loadUnaligned(as: SIMD16<Float>.self)
                UnsafeMutableRawPointer(p + i).storeBytes(of: x * factor, as: SIMD16<Float>.self)
                i += 16
            }
            while i < range.count { p[i] *= factor; i += 1 }
        }
    }

    static func sumOfSquares(_ p: UnsafePointer<Float>, count: Int) -> Double {
        // Float lanes over blocks of 1,024 elements, then Double: fast and accurate enough for 1e7 terms.
        var total = 0.0
        var start = 0
        while start < count {
            let end = min(count, start + 1024)
            var lanes = SIMD16<Float>()
            var i = start
            while i + 16 <= end {
                let x = UnsafeRawPointer(p + i).loadUnaligned(as: SIMD16<Float>.self)
                lanes += x * x
                i += 16
            }
            var block = Double(lanes.sum())
            while i < end { block += Double(p[i]) * Double(p[i]); i += 1 }
            total += block
            start = end
        }
        return total
    }
}
