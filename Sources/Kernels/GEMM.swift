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

/// `gemm` for the large matmuls of the model: split over `Parallelism.workers` into blocks of rows
/// of `c` (or of columns when `c` has few rows), each block one single-threaded BLAS call. This keeps
/// BLAS single-threaded everywhere: OpenBLAS's own worker threads spin (sched_yield) between calls,
/// stealing time from the attention and elementwise workers on a 2-core machine. Small products
/// (under ~4 MFLOP) run as one call.
public func parallelGemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                         a: ConstFloatBuffer, lda: Int, b: ConstFloatBuffer, ldb: Int,
                         beta: Float, c: FloatBuffer, ldc: Int) {
    let workers = Parallelism.workers
    guard Parallelism.splitsMatmuls, workers > 1, 2 * m * n * k >= 4_000_000 else {
        gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
             beta: beta, c: c, ldc: ldc)
        return
    }
    let splitRows = m >= n || m >= 32 * workers
    let extent = splitRows ? m : n
    let blocks = min(workers, max(1, extent / 16))
    BLAS.singleThreaded {
        parallelChunks(count: blocks, minimumWork: 2) { _, blockRange in
            for block in blockRange {
                // Block boundaries on multiples of 16 rows/columns (the BLAS micro-kernel width).
                let begin = (extent * block / blocks) & ~15
                let end = block == blocks - 1 ? extent : (extent * (block + 1) / blocks) & ~15
                if begin >= end { continue }
                if splitRows {
                    gemm(transA: transA, transB: transB, m: end - begin, n: n, k: k, alpha: alpha,
                         a: transA ? a + begin : a + begin * lda, lda: lda, b: b, ldb: ldb,
                         beta: beta, c: c + begin * ldc, ldc: ldc)
                } else {
                    gemm(transA: transA, transB: transB, m: m, n: end - begin, k: k, alpha: alpha, a: a, lda: lda,
                         b: transB ? b + begin * ldb : b + begin, ldb: ldb,
                         beta: beta, c: c + begin, ldc: ldc)
                }
            }
        }
    }
}
