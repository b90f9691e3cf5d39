import Foundation
#if canImport(COneDNN)
import COneDNN
#endif

/// The layout oneDNN's bf16 (or s8) matmul prefers for a linear layer's weight [n, k] (the k × n right operand,
/// used transposed): on AMX, AVX-512 BF16 or VNNI a blocked layout its kernels read without repacking. A
/// weight in it is packed once (`pack`), when the weights are converted; a matmul that reads a plain
/// weight instead repacks it on every call, in each worker (oneDNN's `describe once, execute many`
/// applied to the data too). One layout serves every row count (checked for 1 to 3,072 rows on AMX and
/// AVX-512 BF16 with every epilogue); a matmul that oneDNN refused in it would stop with a message.
public final class PackedLayout: Hashable, @unchecked Sendable {
    let pointer: OpaquePointer
    public let k: Int, n: Int
    /// The weights' element type: bf16, or s8 (with the compensation oneDNN's s8 × s8 kernels add).
    public let element: MatrixElement
    /// Bytes of one packed weight.
    public let bytes: Int
    /// Whether the layout is plain (a CPU without a blocked bf16 kernel): packing would only copy.
    public let isPlain: Bool

    init(pointer: OpaquePointer, k: Int, n: Int, element: MatrixElement) {
        self.pointer = pointer
        (self.k, self.n, self.element) = (k, n, element)
        #if canImport(COneDNN)
        bytes = mrc_packed_layout_bytes(pointer)
        isPlain = mrc_packed_layout_is_plain(pointer) != 0
        #else
        (bytes, isPlain) = (0, true)
        #endif
    }

    deinit {
        #if canImport(COneDNN)
        mrc_packed_layout_destroy(pointer)
        #endif
    }

    public static func == (a: PackedLayout, b: PackedLayout) -> Bool { a === b }
    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }

    /// Reorders the weight `weight` [n, k] (row stride `ld`; bf16 or s8 as `element`) into `packed` (`bytes` bytes).
    public func pack(_ weight: UnsafeRawPointer, ld: Int, into packed: UnsafeMutableRawPointer) {
        #if canImport(COneDNN)
        precondition(mrc_pack_weights(pointer, weight, Int64(ld), packed) == 0, "oneDNN could not pack a \(n)×\(k) weight")
        #endif
    }
}

extension OneDNN {
    private final class Layouts: @unchecked Sendable {
        let lock = NSLock()
        var byShape: [[Int]: PackedLayout?] = [:]   // [k, n, element]
    }
    private static let layouts = Layouts()

    /// The packed layout of bf16 (or s8) weights [n, k] here, or nil where packing does not pay: no oneDNN, the
    /// reference backend, no such matmul (or, for s8, no exact int8), or a plain preferred layout. Made once per
    /// shape and type.
    public static func packedLayout(k: Int, n: Int, element: MatrixElement = .bf16) -> PackedLayout? {
        #if canImport(COneDNN)
        guard LowPrecision.backend == .onednn else { return nil }
        // s8 weights are only read by oneDNN where its int8 is exact (`gemmInt8` runs the reference path elsewhere).
        guard element != .s8 || hasExactInt8 else { return nil }
        _ = isa  // applies MRC_ONEDNN_MAX_ISA first
        layouts.lock.lock()
        defer { layouts.lock.unlock() }
        let key = [k, n, element.rawValue]
        if let known = layouts.byShape[key] { return known }
        var message = [CChar](repeating: 0, count: 256)
        let layout = mrc_packed_layout_create(Int64(k), Int64(n), 1024, mrc_dtype(UInt32(element.rawValue)), &message,
                                              message.count)
            .map { PackedLayout(pointer: $0, k: k, n: n, element: element) }
            .flatMap { $0.isPlain ? nil : $0 }
        layouts.byShape[key] = layout
        return layout
        #else
        return nil
        #endif
    }
}
