import Foundation
#if canImport(COneDNN)
import COneDNN
#endif

/// Element types of the low-precision matmuls.
public enum MatrixElement: Int, Sendable {
    case f32 = 0, bf16 = 1, s8 = 2, s32 = 3
}

/// What a matmul does to its output after the bias, before storing it (oneDNN post-ops, on the hot tile).
public enum MatmulEpilogue: Hashable, Sendable {
    case none
    /// The erf GELU.
    case gelu
    /// `+ R`, an fp32 [m, n] matrix with row stride `ld`, given at execution.
    case residual(ld: Int)
}

/// Per-column output scales of an int8 matmul (a weight's, times its input's scale), one object per weight:
/// a description names them by identity, so describing costs no hashing of the values.
public final class ColumnScales: Hashable, @unchecked Sendable {
    public let values: [Float]
    public init(_ values: [Float]) { self.values = values }
    public static func == (a: ColumnScales, b: ColumnScales) -> Bool { a === b }
    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
}

/// One matmul described once and executed many times (oneDNN's model): row-major
/// `C = alpha · op(A) · op(B) (+ bias) (+ C)`, shapes and strides as in `gemm`.
public struct MatmulDescription: Hashable, Sendable {
    public var m, n, k, lda, ldb, ldc: Int
    public var transA, transB: Bool
    public var a, b, c: MatrixElement
    /// `C += result` instead of `C = result`.
    public var accumulate = false
    /// A constant output scale (1 for none).
    public var alpha: Float = 1
    public var hasBias = false
    /// Not with `accumulate`.
    public var epilogue = MatmulEpilogue.none
    /// B is a weight stored in this layout (`ldb`, `transB` unused), or plain.
    public var packedB: PackedLayout? = nil
    /// Per-column output scales of an int8 product (`n` of them), applied to `A·B + bias` before the
    /// epilogue; not with `alpha`. Baked into the primitive, so one description per scale vector.
    public var columnScales: ColumnScales? = nil
    /// Multiplies the result after the epilogue (static quantisation of an s8 output); 1 for none.
    public var postScale: Float = 1

    public init(m: Int, n: Int, k: Int, lda: Int, ldb: Int, ldc: Int, transA: Bool, transB: Bool,
                a: MatrixElement, b: MatrixElement, c: MatrixElement) {
        (self.m, self.n, self.k, self.lda, self.ldb, self.ldc) = (m, n, k, lda, ldb, ldc)
        (self.transA, self.transB, self.a, self.b, self.c) = (transA, transB, a, b, c)
    }
}

/// oneDNN (Debian's libdnnl), the library made for CPU matmuls in bf16/int8: it dispatches at run time
/// to AMX tiles, AVX-512 BF16/VNNI or plain AVX-512/AVX2 code. Primitives are cached by description.
public enum OneDNN {
    /// Whether the library is linked in this build.
    public static var isLinked: Bool {
        #if canImport(COneDNN)
        return true
        #else
        return false
        #endif
    }

    /// The instruction set oneDNN dispatches to, e.g. "avx512_core_amx" or "avx512_core_bf16".
    public static var isa: String {
        #if canImport(COneDNN)
        _ = prepared
        return String(cString: mrc_onednn_isa())
        #else
        return "none"
        #endif
    }

    public static var version: String {
        #if canImport(COneDNN)
        return String(cString: mrc_onednn_version())
        #else
        return "none"
        #endif
    }

    /// Whether oneDNN's int8 matmuls are exact here: with VNNI (AVX512-VNNI, AVX-VNNI, AMX) the int8
    /// products accumulate in int32; without it oneDNN 2.6 multiplies pairs into saturating int16
    /// (`vpmaddubsw`), which full-range int8 weights overflow — measured wrong by up to 100 % capped at
    /// AVX2. Without VNNI the int8 matmuls take the reference path.
    public static var hasExactInt8: Bool {
        ["avx512_core_vnni", "avx512_core_bf16", "avx512_core_amx", "avx2_vnni"].contains(isa)
    }

    /// The implementation oneDNN chose for `description` ("brg:avx512_core_amx_bf16", ...), or nil
    /// when it has none for this type combination on this CPU.
    public static func implementation(_ description: MatmulDescription) -> String? {
        #if canImport(COneDNN)
        return primitive(description).map { String(cString: mrc_matmul_implementation($0.pointer)) }
        #else
        return nil
        #endif
    }

    /// Whether oneDNN can run `description` here (the primitive is created and cached on first ask).
    public static func supports(_ description: MatmulDescription) -> Bool { implementation(description) != nil }

    /// Runs the matmul `description` on the calling thread with `threads` threads (oneDNN's OpenMP
    /// team). Returns false, computing nothing, where oneDNN has no implementation.
    @discardableResult
    public static func execute(_ description: MatmulDescription, a: UnsafeRawPointer, b: UnsafeRawPointer,
                               c: UnsafeMutableRawPointer, bias: ConstFloatBuffer? = nil, residual: ConstFloatBuffer? = nil,
                               threads: Int) -> Bool {
        #if canImport(COneDNN)
        guard let matmul = primitive(description) else { return false }
        precondition(description.hasBias == (bias != nil), "OneDNN.execute: the bias does not match the description")
        if case .residual = description.epilogue {
            precondition(residual != nil, "OneDNN.execute: the residual epilogue needs its matrix")
        } else {
            precondition(residual == nil, "OneDNN.execute: a residual without the residual epilogue")
        }
        let status = mrc_matmul_execute(matmul.pointer, a, b, bias, residual, c, Int32(threads))
        precondition(status == 0, "oneDNN matmul execution failed for \(description)")
        return true
        #else
        return false
        #endif
    }

    #if canImport(COneDNN)
    /// Applies `MRC_ONEDNN_MAX_ISA` (e.g. AVX2, AVX512_CORE, AVX512_CORE_BF16) and asks Linux for the
    /// AMX permission, once, before the first primitive.
    private static let prepared: Bool = {
        if let cap = ProcessInfo.processInfo.environment["MRC_ONEDNN_MAX_ISA"] {
            precondition(mrc_onednn_set_max_isa(cap) == 0, "MRC_ONEDNN_MAX_ISA=\(cap) is not an instruction set oneDNN knows")
        }
        _ = mrc_request_amx()
        return true
    }()

    /// A created primitive; destroyed when the cache has dropped it and no execution holds it.
    final class Primitive: @unchecked Sendable {
        let pointer: OpaquePointer
        init(_ pointer: OpaquePointer) { self.pointer = pointer }
        deinit { mrc_matmul_destroy(pointer) }
    }

    /// Primitives by description (nil: unsupported here). Shapes vary with batch composition (a
    /// server sees many), so the cache is bounded: past `capacity` it starts afresh (creating one
    /// costs ~0.1 ms; oneDNN keeps its own cache of generated kernels too).
    private final class Cache: @unchecked Sendable {
        let lock = NSLock()
        var primitives: [MatmulDescription: Primitive?] = [:]
        let capacity = 2048
    }
    private static let cache = Cache()

    private static func primitive(_ d: MatmulDescription) -> Primitive? {
        _ = prepared
        cache.lock.lock()
        defer { cache.lock.unlock() }
        if let known = cache.primitives[d] { return known }
        if cache.primitives.count >= cache.capacity { cache.primitives.removeAll(keepingCapacity: true) }
        var c = mrc_matmul_desc(m: Int64(d.m), n: Int64(d.n), k: Int64(d.k), lda: Int64(d.lda), ldb: Int64(d.ldb),
                                ldc: Int64(d.ldc), trans_a: d.transA ? 1 : 0, trans_b: d.transB ? 1 : 0,
                                a_type: mrc_dtype(UInt32(d.a.rawValue)), b_type: mrc_dtype(UInt32(d.b.rawValue)),
                                c_type: mrc_dtype(UInt32(d.c.rawValue)), accumulate: d.accumulate ? 1 : 0,
                                alpha: d.alpha, has_bias: d.hasBias ? 1 : 0, epilogue: d.epilogue.c, ldr: d.epilogue.ld,
                                packed_b: d.packedB?.pointer, scales: nil, post_scale: d.postScale)
        var message = [CChar](repeating: 0, count: 256)
        let created = d.columnScales.map { scales in
            scales.values.withUnsafeBufferPointer { v -> OpaquePointer? in
                precondition(v.count == d.n, "OneDNN: \(v.count) column scales for \(d.n) columns")
                c.scales = v.baseAddress
                return mrc_matmul_create(&c, &message, message.count)
            }
        } ?? mrc_matmul_create(&c, &message, message.count)
        let primitive = created.map(Primitive.init)
        cache.primitives[d] = primitive
        return primitive
    }
    #endif
}

#if canImport(COneDNN)
private extension MatmulEpilogue {
    var c: mrc_epilogue {
        switch self {
        case .none: return MRC_EPILOGUE_NONE
        case .gelu: return MRC_EPILOGUE_GELU
        case .residual: return MRC_EPILOGUE_RESIDUAL
        }
    }
    var ld: Int64 { if case .residual(let ld) = self { return Int64(ld) } else { return 0 } }
}
#endif
