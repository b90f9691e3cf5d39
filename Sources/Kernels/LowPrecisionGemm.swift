import Foundation

/// The code that runs the bf16 and int8 matmuls.
public enum LowPrecisionBackend: String, Sendable {
    /// oneDNN, which picks AMX, AVX-512 BF16/VNNI or older code at run time.
    case onednn
    /// Inputs widened to fp32 (exactly) and run through `gemm`: the same products, fp32 accumulation;
    /// the path of a build or CPU where oneDNN has no implementation.
    case reference
}

public enum LowPrecision {
    /// The backend in use: oneDNN unless `MRC_LOW_PRECISION=reference` (or this build has no oneDNN).
    nonisolated(unsafe) public static var backend: LowPrecisionBackend =
        ProcessInfo.processInfo.environment["MRC_LOW_PRECISION"] == "reference" || !OneDNN.isLinked ? .reference : .onednn

    /// A one-line account of what runs the low-precision matmuls here (for logs and benchmarks).
    public static var summary: String {
        switch backend {
        case .reference: return "reference (fp32 gemm on bf16/int8 values)"
        case .onednn:
            var bf16 = MatmulDescription(m: 64, n: 64, k: 64, lda: 64, ldb: 64, ldc: 64, transA: false, transB: true,
                                         a: .bf16, b: .bf16, c: .f32)
            var int8 = bf16
            (int8.a, int8.b, int8.c) = (.s8, .s8, .s32)
            bf16.hasBias = true
            let fallback = "none here: reference path"
            let int8Path = OneDNN.hasExactInt8 ? OneDNN.implementation(int8) ?? fallback : "no VNNI here: reference path"
            return "oneDNN \(OneDNN.version), ISA \(OneDNN.isa), bf16 \(OneDNN.implementation(bf16) ?? fallback), "
                + "int8 \(int8Path)"
        }
    }
}

/// What a bf16 GEMM does to its output after the bias (`MatmulEpilogue`, with the residual's matrix).
public enum GemmEpilogue {
    case none
    /// The erf GELU.
    case gelu
    /// `+ R`, an fp32 [m, n] matrix with row stride `ld`.
    case residual(ConstFloatBuffer, ld: Int)

    /// The profile's label suffix of a product with this epilogue, or adding onto its output (`accumulate`).
    func profileSuffix(accumulating: Bool) -> String { profileSuffix + (accumulating ? " +residual in place" : "") }

    var profileSuffix: String {
        switch self {
        case .none: return ""
        case .gelu: return " +gelu"
        case .residual: return " +residual"
        }
    }

    var description: MatmulEpilogue {
        switch self {
        case .none: return .none
        case .gelu: return .gelu
        case .residual(_, let ld): return .residual(ld: ld)
        }
    }
}

/// bf16 GEMM with fp32 accumulation: `c = alpha · op(a) · op(b) (+ bias) (+ c when accumulating)`,
/// shapes and strides as in `gemm`. With `threads` > 1 a large product is split over the kernels'
/// workers into blocks of rows of `c` (of columns when `c` has few rows), each one single-threaded
/// oneDNN call; inside `parallelChunks` workers pass 1.
///
/// oneDNN itself is never given more than one thread: Debian builds it on OpenMP, whose idle team
/// spins (OMP_WAIT_POLICY, read once at load) and then steals the cores from the workers of the
/// attention and elementwise kernels; measured on the bf16 forward, 0.34 s with its team vs 0.30 s
/// passive. Splitting over our own workers keeps one pool of threads in the process.
public func gemmBF16(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
                     a: ConstBF16Buffer, lda: Int, b: ConstBF16Buffer, ldb: Int, accumulate: Bool,
                     bias: ConstFloatBuffer? = nil, c: FloatBuffer, ldc: Int, threads: Int) {
    gemmBF16(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
             accumulate: accumulate, bias: bias, epilogue: .none, c: UnsafeMutableRawPointer(c), cType: .f32, ldc: ldc,
             threads: threads)
}

/// `gemmBF16` with an epilogue applied to each output tile before it is stored (`c = ε(alpha · op(a) ·
/// op(b) + bias)`), and `c` in fp32 or bf16 (`cType`; rounded to nearest even after the epilogue). The
/// epilogue does not combine with `accumulate`. With `packedB`, `b` is a weight packed in that layout
/// (`PackedLayout.pack`; `transB` must be true, `ldb` is unused): oneDNN only, split by rows.
public func gemmBF16(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
                     a: ConstBF16Buffer, lda: Int, b: ConstBF16Buffer, ldb: Int, packedB: PackedLayout? = nil,
                     accumulate: Bool = false, bias: ConstFloatBuffer?, epilogue: GemmEpilogue, c: UnsafeMutableRawPointer,
                     cType: MatrixElement, ldc: Int, threads: Int) {
    precondition(cType == .f32 || cType == .bf16, "gemmBF16 writes fp32 or bf16")
    if case .none = epilogue {} else { precondition(!accumulate, "gemmBF16: an epilogue does not combine with accumulate") }
    precondition(packedB == nil || (transB && packedB!.k == k && packedB!.n == n), "gemmBF16: the packed weight's shape")
    if m == 0 || n == 0 { return }
    let cSize = cType == .f32 ? 4 : 2
    if threads > 1 {
        splitOverWorkers(m: m, n: n, k: k, rowsOnly: packedB != nil) { rows, columns in
            let a = rows.lowerBound == 0 ? a : (transA ? a + rows.lowerBound : a + rows.lowerBound * lda)
            let b = columns.lowerBound == 0 ? b : (transB ? b + columns.lowerBound * ldb : b + columns.lowerBound)
            var part = epilogue
            if case .residual(let r, let ld) = epilogue { part = .residual(r + rows.lowerBound * ld + columns.lowerBound, ld: ld) }
            gemmBF16(transA: transA, transB: transB, m: rows.count, n: columns.count, k: k, alpha: alpha, a: a, lda: lda,
                     b: b, ldb: ldb, packedB: packedB, accumulate: accumulate, bias: bias.map { $0 + columns.lowerBound },
                     epilogue: part,
                     c: c + cSize * (rows.lowerBound * ldc + columns.lowerBound), cType: cType, ldc: ldc, threads: 1)
        }
        return
    }
    if LowPrecision.backend == .onednn {
        var d = MatmulDescription(m: m, n: n, k: k, lda: lda, ldb: ldb, ldc: ldc, transA: transA, transB: transB,
                                  a: .bf16, b: .bf16, c: cType)
        d.accumulate = accumulate
        d.alpha = alpha
        d.hasBias = bias != nil
        d.epilogue = epilogue.description
        d.packedB = packedB
        var residual: ConstFloatBuffer? = nil
        if case .residual(let r, _) = epilogue { residual = r }
        if OneDNN.execute(d, a: a, b: b, c: c, bias: bias, residual: residual, threads: threads) { return }
    }
    precondition(packedB == nil, "oneDNN refused a matmul on a packed weight (\(m)×\(k) · \(k)×\(n)); only oneDNN reads that layout")
    referenceGemmBF16(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                      accumulate: accumulate, bias: bias, epilogue: epilogue, c: c, cType: cType, ldc: ldc)
}

/// The reference path of `gemmBF16` (its naive twin): op(a), op(b) widened to dense fp32 (exact), one
/// `gemm` into a dense product, then bias and accumulation element by element, the epilogue (GELU by the
/// unfused layer's own `geluForward`, so that a fused layer on this backend equals the unfused one bit
/// for bit) and the store.
func referenceGemmBF16(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, a: ConstBF16Buffer, lda: Int,
                       b: ConstBF16Buffer, ldb: Int, accumulate: Bool, bias: ConstFloatBuffer?, epilogue: GemmEpilogue = .none,
                       c: UnsafeMutableRawPointer, cType: MatrixElement = .f32, ldc: Int) {
    let wideA = widen(a, rows: transA ? k : m, cols: transA ? m : k, ld: lda)
    let wideB = widen(b, rows: transB ? n : k, cols: transB ? k : n, ld: ldb)
    let product = FloatBuffer.allocate(capacity: m * n)
    defer { wideA.deallocate(); wideB.deallocate(); product.deallocate() }
    gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: wideA, lda: transA ? m : k, b: wideB,
         ldb: transB ? k : n, beta: 0, c: product, ldc: n)
    let c32 = c.assumingMemoryBound(to: Float.self), c16 = c.assumingMemoryBound(to: BF16.self)
    for i in 0..<m {
        for j in 0..<n {
            var v = product[i * n + j] + (bias?[j] ?? 0)
            if accumulate { v = (cType == .f32 ? c32[i * ldc + j] : float(bfloat16: c16[i * ldc + j])) + v }
            if case .residual(let r, let ld) = epilogue { v += r[i * ld + j] }
            product[i * n + j] = v
        }
    }
    if case .gelu = epilogue { geluForward(out: product, inp: product, count: m * n) }
    for i in 0..<m {
        if cType == .f32 {
            (c32 + i * ldc).update(from: product + i * n, count: n)
        } else {
            convertRowToBF16(out: c16 + i * ldc, inp: product + i * n, count: n)
        }
    }
}

private func widen(_ x: ConstBF16Buffer, rows: Int, cols: Int, ld: Int) -> FloatBuffer {
    let out = FloatBuffer.allocate(capacity: max(1, rows * cols))
    for r in 0..<rows {
        for j in 0..<cols { out[r * cols + j] = float(bfloat16: x[r * ld + j]) }
    }
    return out
}
