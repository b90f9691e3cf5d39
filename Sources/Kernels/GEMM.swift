#if canImport(Accelerate)
import Accelerate
#elseif canImport(CBLAS)
import CBLAS
#endif

/// Row-major single-precision GEMM: `c = alpha * op(a) * op(b) + beta * c`, with `op(a)` of shape
/// [m, k] and `op(b)` of shape [k, n]; `transA`/`transB` mean the stored matrix is the transpose.
/// Leading dimensions are the row strides of the stored matrices. BLAS where available.
public func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                 a: ConstFloatBuffer, lda: Int, b: ConstFloatBuffer, ldb: Int,
                 beta: Float, c: FloatBuffer, ldc: Int) {
    if m == 0 || n == 0 { return }
    #if canImport(Accelerate) || canImport(CBLAS)
    BLAS.ensureKernels()
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    #else
    naiveGemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
              b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    #endif
}
