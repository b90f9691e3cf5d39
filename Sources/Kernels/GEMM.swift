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
    guard Parallelism.splitsMatmuls else {
        gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
             beta: beta, c: c, ldc: ldc)
        return
    }
    BLAS.singleThreaded {
        splitOverWorkers(m: m, n: n, k: k) { rows, columns in
            gemm(transA: transA, transB: transB, m: rows.count, n: columns.count, k: k, alpha: alpha,
                 a: transA ? a + rows.lowerBound : a + rows.lowerBound * lda, lda: lda,
                 b: transB ? b + columns.lowerBound * ldb : b + columns.lowerBound, ldb: ldb,
                 beta: beta, c: c + rows.lowerBound * ldc + columns.lowerBound, ldc: ldc)
        }
    }
}

/// Runs `block(rows, columns)` over blocks of an m × n output on `Parallelism.workers` workers: blocks
/// of rows (of columns when there are few rows) on multiples of 16 (the micro-kernel width), or one
/// block for small products (under ~4 MFLOP, where a hand-off costs more than it gains). `rowsOnly`
/// (a packed B, which cannot be cut into columns): blocks of rows, or one block under 32 rows a worker.
func splitOverWorkers(m: Int, n: Int, k: Int, rowsOnly: Bool = false, _ block: (Range<Int>, Range<Int>) -> Void) {
    let workers = Parallelism.workers
    guard workers > 1, 2 * m * n * k >= 4_000_000, !rowsOnly || m >= 32 * workers else { block(0..<m, 0..<n); return }
    let splitRows = rowsOnly || m >= n || m >= 32 * workers
    let extent = splitRows ? m : n
    let blocks = min(workers, max(1, extent / 16))
    parallelChunks(count: blocks, minimumWork: 2) { _, blockRange in
        for index in blockRange {
            let begin = (extent * index / blocks) & ~15
            let end = index == blocks - 1 ? extent : (extent * (index + 1) / blocks) & ~15
            if begin < end { block(splitRows ? begin..<end : 0..<m, splitRows ? 0..<n : begin..<end) }
        }
    }
}
