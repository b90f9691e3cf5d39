import CKernels
import Foundation

/// The bf16 training layer's GELU fused with the rounding of its result for the next matmul (`mrc_gelu_forward_bf16`,
/// `mrc_gelu_backward_bf16`): one pass instead of GELU, a conversion and, backward, the bias gradient's column sums.
/// Its twins are those three kernels (`geluForward`/`geluBackward`, `convertToBF16`, `columnSumAccumulate`); the C
/// GELU is exact to |error| ≤ 1.5e-6·|x| (forward) and 2.5e-6·|dout| (backward) before the bf16 rounding.
public enum FusedGELU {
    /// Turns the fused GELU off (`MRC_FUSED_GELU=0`): for before/after benchmarks.
    nonisolated(unsafe) public static var enabled = ProcessInfo.processInfo.environment["MRC_FUSED_GELU"] != "0"

    /// Whether it runs here: AVX-512 BF16 present and allowed by the oneDNN cap (as for the softmax rows), unless off.
    public static var runs: Bool { enabled && avx512BF16Allowed }
}

/// `out16 = bf16(gelu(inp))` in one pass (`FusedGELU.runs` must hold), and `inputCopy = inp` unless nil, written past
/// the cache (the training layer keeps its GELU input for the backward this way, see
/// `encoderLayerForwardTrainingBF16`).
public func geluForwardBF16(out16: BF16Buffer, inp: ConstFloatBuffer, count: Int, inputCopy: FloatBuffer? = nil) {
    precondition(FusedGELU.runs, "the fused GELU needs AVX-512 BF16")
    let profileStart = KernelProfile.start()
    defer { KernelProfile.stop(profileStart, "geluForwardBF16") }
    parallelElements(count: count, minimumWork: geluParallelThreshold) { range in
        mrc_gelu_forward_bf16(inp + range.lowerBound, Int64(range.count), out16 + range.lowerBound,
                              inputCopy.map { $0 + range.lowerBound })
    }
}

/// GELU backward of a [rows, cols] matrix in one pass (`FusedGELU.runs` must hold): `d = dout · gelu'(inp)` in fp32,
/// `dinp16 = bf16(d)` (the operand of the matmul backward below the GELU), and `dbias += column sums of d` (that
/// matmul's bias gradient, summed in the order of `columnSumAccumulate`) unless `dbias` is nil.
public func geluBackwardBF16(dinp16: BF16Buffer, dbias: FloatBuffer?, dout: ConstFloatBuffer, inp: ConstFloatBuffer,
                             rows: Int, cols: Int) {
    precondition(FusedGELU.runs, "the fused GELU needs AVX-512 BF16")
    let profileStart = KernelProfile.start()
    defer { KernelProfile.stop(profileStart, "geluBackwardBF16") }
    // Split by columns, so each worker owns its slice of the bias gradient.
    parallelElements(count: cols, minimumWork: geluParallelThreshold / max(1, rows)) { columns in
        let c = columns.lowerBound
        mrc_gelu_backward_bf16(dout + c, inp + c, Int64(cols), Int64(rows), Int64(columns.count), dinp16 + c, dbias.map { $0 + c })
    }
}
