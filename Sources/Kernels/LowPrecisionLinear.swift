/// Linear layer forward in bf16 (the scheme of autocast): `inp` rounded to bf16 into `scratch`
/// [rows, inFeatures], times the bf16 `weight` [outFeatures, inFeatures], fp32 accumulation and output,
/// fp32 bias.
public func matmulForwardBF16(out: FloatBuffer, inp: ConstFloatBuffer, scratch: BF16Buffer, weight: ConstBF16Buffer,
                              bias: ConstFloatBuffer?, rows: Int, inFeatures: Int, outFeatures: Int) {
    convertToBF16(out: scratch, inp: inp, count: rows * inFeatures)
    let profileStart = KernelProfile.start()
    defer {
        KernelProfile.stop(profileStart, "matmulForwardBF16 \(rows)x\(inFeatures)->\(outFeatures)",
                           flops: 2 * Double(rows * inFeatures * outFeatures))
    }
    gemmBF16(transA: false, transB: true, m: rows, n: outFeatures, k: inFeatures, a: scratch, lda: inFeatures,
             b: weight, ldb: inFeatures, accumulate: false, bias: bias, c: out, ldc: outFeatures,
             threads: Parallelism.workers)
}

/// Linear layer forward of the fused bf16 inference layer: the input already bf16 [rows, inFeatures] (made
/// by the producer), the bias and `epilogue` applied by the matmul on its output tile, the output stored
/// as fp32 or bf16 (`outType`) [rows, outFeatures]. `weight` is plain [outFeatures, inFeatures], or in the
/// `packed` layout. With `accumulate` (no epilogue; see `gemmBF16`) the product and bias are added to what `out` holds
/// (oneDNN's sum post-op): a residual added in place, the same sums as `.residual` (bit for bit on the reference
/// backend and on oneDNN's implementations at the tested shapes, `ResidualInPlaceTests`).
public func matmulForwardBF16(out: UnsafeMutableRawPointer, outType: MatrixElement, inp16: ConstBF16Buffer,
                              weight: ConstBF16Buffer, packed: PackedLayout?, bias: ConstFloatBuffer?, epilogue: GemmEpilogue,
                              accumulate: Bool = false, rows: Int, inFeatures: Int, outFeatures: Int) {
    let profileStart = KernelProfile.start()
    defer {
        KernelProfile.stop(profileStart, "matmulForwardBF16 \(rows)x\(inFeatures)->\(outFeatures)"
                           + epilogue.profileSuffix(accumulating: accumulate), flops: 2 * Double(rows * inFeatures * outFeatures))
    }
    gemmBF16(transA: false, transB: true, m: rows, n: outFeatures, k: inFeatures, a: inp16, lda: inFeatures, b: weight,
             ldb: inFeatures, packedB: packed, accumulate: accumulate, bias: bias, epilogue: epilogue, c: out, cType: outType,
             ldc: outFeatures, threads: Parallelism.workers)
}

/// Linear layer backward in bf16 (autocast's scheme, fp32 outputs): `dout` and `inp` rounded to bf16 into
/// the scratch buffers ([rows, outFeatures] and [rows, inFeatures]), then, accumulating into each non-nil
/// gradient, `dinp += dout · weight`, `dweight += doutᵀ · inp` (fp32 accumulation), `dbias += column sums`
/// of the fp32 `dout` (in the conversion's pass). With `inputRounded`, `inpScratch` holds bf16(inp) already (the
/// forward's copy).
public func matmulBackwardBF16(dinp: FloatBuffer?, dweight: FloatBuffer?, dbias: FloatBuffer?, dout: ConstFloatBuffer,
                               inp: ConstFloatBuffer, weight: ConstBF16Buffer, rows: Int, inFeatures: Int, outFeatures: Int,
                               doutScratch: BF16Buffer, inpScratch: BF16Buffer, inputRounded: Bool = false) {
    if let dbias { convertToBF16(out: doutScratch, columnSums: dbias, inp: dout, rows: rows, cols: outFeatures) }
    else { convertToBF16(out: doutScratch, inp: dout, count: rows * outFeatures) }
    if dweight != nil, !inputRounded { convertToBF16(out: inpScratch, inp: inp, count: rows * inFeatures) }
    matmulBackwardBF16(dinp: dinp, dweight: dweight, dout16: doutScratch, inp16: inpScratch, weight: weight, rows: rows,
                       inFeatures: inFeatures, outFeatures: outFeatures)
}

/// The two products of the bf16 linear backward from operands already in bf16 (their producers rounded them):
/// `dinp += dout16 · weight`, `dweight += dout16ᵀ · inp16` (fp32 accumulation), each where non-nil; `inp16` is read
/// only for `dweight`.
public func matmulBackwardBF16(dinp: FloatBuffer?, dweight: FloatBuffer?, dout16: ConstBF16Buffer, inp16: ConstBF16Buffer?,
                               weight: ConstBF16Buffer, rows: Int, inFeatures: Int, outFeatures: Int) {
    precondition(dweight == nil || inp16 != nil, "the weight gradient needs the bf16 input")
    let profileStart = KernelProfile.start()
    defer {
        KernelProfile.stop(profileStart, "matmulBackwardBF16 \(rows)x\(inFeatures)->\(outFeatures)",
                           flops: Double((dinp == nil ? 0 : 2) + (dweight == nil ? 0 : 2)) * Double(rows * inFeatures * outFeatures))
    }
    if let dinp {
        gemmBF16(transA: false, transB: false, m: rows, n: inFeatures, k: outFeatures, a: dout16, lda: outFeatures,
                 b: weight, ldb: inFeatures, accumulate: true, c: dinp, ldc: inFeatures, threads: Parallelism.workers)
    }
    if let dweight, let inp16 {
        gemmBF16(transA: true, transB: false, m: outFeatures, n: inFeatures, k: rows, a: dout16, lda: outFeatures,
                 b: inp16, ldb: inFeatures, accumulate: true, c: dweight, ldc: inFeatures, threads: Parallelism.workers)
    }
}
