// The attention products with head-dim outputs, P·V and dS·K, as a direct SIMD kernel at head dim
// 32 (BLAS for other head dims). The large T×T operand is read in place, never packed.

/// The head width the direct attention products are written for (two 16-lane vectors per row).
let attentionPanelWidth = 32

/// A product with 32 output columns, the shape of attention's P·V and dQ = dS·K at head dim 32:
/// `c[r, 0..<32] = alpha · Σ_s a[r·lda + s] · b[s·32 ..< s·32 + 32]  (+ c[r, 0..<32] when accumulate)`.
///
/// Why not sgemm: OpenBLAS packs the large T×T operand a for every call. Here a is read once, in
/// place; each output row lives in two registers for the whole sum, 12 rows at a time (24
/// accumulators), and the contiguous rows of b are re-read from L1/L2 once per 12 output rows.
/// (For aᵀ·b, dV and dK, the strided walk down a's columns made this no faster than sgemm.)
/// - Parameters:
///   - rows: output rows r; depth: summed index s.
///   - a: [rows, lda]; b: [depth, 32], contiguous (its rows strided across qkv would cost a TLB
///     miss per row and load); c: [rows, ldc], 32 columns written.
func panel32Product(rows: Int, depth: Int, alpha: Float, a: ConstFloatBuffer, lda: Int,
                    b: ConstFloatBuffer, accumulate: Bool, c: FloatBuffer, ldc: Int) {
    let scale = Vec16(repeating: alpha)
    @inline(__always)
    func finish(_ row: Int, _ lo: Vec16, _ hi: Vec16) {
        let out = c + row * ldc
        if accumulate {
            store16(out, load16(out).addingProduct(lo, scale))
            store16(out + 16, load16(out + 16).addingProduct(hi, scale))
        } else {
            store16(out, lo * scale)
            store16(out + 16, hi * scale)
        }
    }
    var r = 0
    // 12 rows (24 accumulators, 2 loads of b and 12 broadcasts per 24 FMAs), then 8, then 1.
    while r + 12 <= rows {
        let a0 = a + r * lda, a1 = a + (r + 1) * lda
        let a2 = a + (r + 2) * lda, a3 = a + (r + 3) * lda
        let a4 = a + (r + 4) * lda, a5 = a + (r + 5) * lda
        let a6 = a + (r + 6) * lda, a7 = a + (r + 7) * lda
        let a8 = a + (r + 8) * lda, a9 = a + (r + 9) * lda
        let a10 = a + (r + 10) * lda, a11 = a + (r + 11) * lda
        var l0 = Vec16(), h0 = Vec16(), l1 = Vec16(), h1 = Vec16(), l2 = Vec16(), h2 = Vec16()
        var l3 = Vec16(), h3 = Vec16(), l4 = Vec16(), h4 = Vec16(), l5 = Vec16(), h5 = Vec16()
        var l6 = Vec16(), h6 = Vec16(), l7 = Vec16(), h7 = Vec16(), l8 = Vec16(), h8 = Vec16()
        var l9 = Vec16(), h9 = Vec16(), l10 = Vec16(), h10 = Vec16(), l11 = Vec16(), h11 = Vec16()
        var bRow = b
        for s in 0..<depth {
            let lo = load16(bRow), hi = load16(bRow + 16)
            var w = Vec16(repeating: a0[s]); l0 = l0.addingProduct(w, lo); h0 = h0.addingProduct(w, hi)
            w = Vec16(repeating: a1[s]); l1 = l1.addingProduct(w, lo); h1 = h1.addingProduct(w, hi)
            w = Vec16(repeating: a2[s]); l2 = l2.addingProduct(w, lo); h2 = h2.addingProduct(w, hi)
            w = Vec16(repeating: a3[s]); l3 = l3.addingProduct(w, lo); h3 = h3.addingProduct(w, hi)
            w = Vec16(repeating: a4[s]); l4 = l4.addingProduct(w, lo); h4 = h4.addingProduct(w, hi)
            w = Vec16(repeating: a5[s]); l5 = l5.addingProduct(w, lo); h5 = h5.addingProduct(w, hi)
            w = Vec16(repeating: a6[s]); l6 = l6.addingProduct(w, lo); h6 = h6.addingProduct(w, hi)
            w = Vec16(repeating: a7[s]); l7 = l7.addingProduct(w, lo); h7 = h7.addingProduct(w, hi)
            w = Vec16(repeating: a8[s]); l8 = l8.addingProduct(w, lo); h8 = h8.addingProduct(w, hi)
            w = Vec16(repeating: a9[s]); l9 = l9.addingProduct(w, lo); h9 = h9.addingProduct(w, hi)
            w = Vec16(repeating: a10[s]); l10 = l10.addingProduct(w, lo); h10 = h10.addingProduct(w, hi)
            w = Vec16(repeating: a11[s]); l11 = l11.addingProduct(w, lo); h11 = h11.addingProduct(w, hi)
            bRow += attentionPanelWidth
        }
        finish(r, l0, h0); finish(r + 1, l1, h1); finish(r + 2, l2, h2); finish(r + 3, l3, h3)
        finish(r + 4, l4, h4); finish(r + 5, l5, h5); finish(r + 6, l6, h6); finish(r + 7, l7, h7)
        finish(r + 8, l8, h8); finish(r + 9, l9, h9); finish(r + 10, l10, h10); finish(r + 11, l11, h11)
        r += 12
    }
    while r + 8 <= rows {
        let a0 = a + r * lda, a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda
        let a4 = a3 + lda, a5 = a4 + lda, a6 = a5 + lda, a7 = a6 + lda
        var l0 = Vec16(), h0 = Vec16(), l1 = Vec16(), h1 = Vec16(), l2 = Vec16(), h2 = Vec16()
        var l3 = Vec16(), h3 = Vec16(), l4 = Vec16(), h4 = Vec16(), l5 = Vec16(), h5 = Vec16()
        var l6 = Vec16(), h6 = Vec16(), l7 = Vec16(), h7 = Vec16()
        var bRow = b
        var offset = 0
        for _ in 0..<depth {
            let lo = load16(bRow), hi = load16(bRow + 16)
            var w = Vec16(repeating: a0[offset]); l0 = l0.addingProduct(w, lo); h0 = h0.addingProduct(w, hi)
            w = Vec16(repeating: a1[offset]); l1 = l1.addingProduct(w, lo); h1 = h1.addingProduct(w, hi)
            w = Vec16(repeating: a2[offset]); l2 = l2.addingProduct(w, lo); h2 = h2.addingProduct(w, hi)
            w = Vec16(repeating: a3[offset]); l3 = l3.addingProduct(w, lo); h3 = h3.addingProduct(w, hi)
            w = Vec16(repeating: a4[offset]); l4 = l4.addingProduct(w, lo); h4 = h4.addingProduct(w, hi)
            w = Vec16(repeating: a5[offset]); l5 = l5.addingProduct(w, lo); h5 = h5.addingProduct(w, hi)
            w = Vec16(repeating: a6[offset]); l6 = l6.addingProduct(w, lo); h6 = h6.addingProduct(w, hi)
            w = Vec16(repeating: a7[offset]); l7 = l7.addingProduct(w, lo); h7 = h7.addingProduct(w, hi)
            bRow += attentionPanelWidth
            offset += 1
        }
        finish(r, l0, h0); finish(r + 1, l1, h1); finish(r + 2, l2, h2); finish(r + 3, l3, h3)
        finish(r + 4, l4, h4); finish(r + 5, l5, h5); finish(r + 6, l6, h6); finish(r + 7, l7, h7)
        r += 8
    }
    while r < rows {
        let aRow = a + r * lda
        var lo = Vec16(), hi = Vec16()
        var bRow = b
        var offset = 0
        for _ in 0..<depth {
            let w = Vec16(repeating: aRow[offset])
            lo = lo.addingProduct(w, load16(bRow))
            hi = hi.addingProduct(w, load16(bRow + 16))
            bRow += attentionPanelWidth
            offset += 1
        }
        finish(r, lo, hi)
        r += 1
    }
}

/// Floats of scratch `attentionHeadProduct` needs for a depth of up to `seqLen`.
func attentionHeadScratch(seqLen: Int) -> Int { attentionPanelWidth * seqLen }

/// `c (+)= alpha · a · b` with c [m, n = head dim]: P·V and dS·K. Head dim 32 copies b into
/// `scratch` (`attentionHeadScratch`) and runs `panel32Product`; any other width the BLAS `gemm`.
/// - Parameters: as `gemm` with no transposes and beta = 0 (accumulate = false) or 1.
func attentionHeadProduct(m: Int, n: Int, k: Int, alpha: Float, a: ConstFloatBuffer, lda: Int,
                          b: ConstFloatBuffer, ldb: Int, accumulate: Bool, c: FloatBuffer, ldc: Int,
                          scratch: FloatBuffer) {
    if n == attentionPanelWidth {
        for s in 0..<k { (scratch + s * n).update(from: b + s * ldb, count: n) }
        panel32Product(rows: m, depth: k, alpha: alpha, a: a, lda: lda, b: scratch, accumulate: accumulate,
                       c: c, ldc: ldc)
    } else {
        gemm(transA: false, transB: false, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
             beta: accumulate ? 1 : 0, c: c, ldc: ldc)
    }
}
