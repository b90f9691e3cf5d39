import Kernels

/// One matmul weight [rows = out features, cols = in features] in the form a low-precision kernel reads.
struct LowPrecisionMatrix {
    /// bf16 values (bf16 precision) or nil.
    let bf16: ConstBF16Buffer?
    /// int8 values and their per-row scales (int8 precision) or nil.
    let int8: UnsafePointer<Int8>?
    let scales: ConstFloatBuffer?
}

/// An encoder layer's four matmul weights in low precision.
struct LowPrecisionLayer {
    let qkv, attentionOutput, intermediate, output: LowPrecisionMatrix
}

/// The encoder's matmul weights converted once from the fp32 master weights into what the bf16 or int8
/// kernels read (bf16 values; or int8 values with per-channel scales). `refresh` converts again after
/// the masters changed.
final class LowPrecisionWeights {
    let precision: Precision
    private(set) var layers: [LowPrecisionLayer] = []
    private let shapes: [[(offset: Int, rows: Int, cols: Int)]]
    private let storage: UnsafeMutableRawPointer
    private let elements: Int
    /// Bytes of the converted weights.
    let bytes: Int

    static func bytes(elements: Int, rows: Int, precision: Precision) -> Int {
        precision == .bf16 ? 2 * elements : elements + 4 * rows
    }

    /// A layer's four matmul weights as [rows = out, cols = in]: qkv, attention output, intermediate, output.
    static func matrixShapes(channels c: Int, intermediate i: Int) -> [(rows: Int, cols: Int)] {
        [(3 * c, c), (c, c), (i, c), (c, i)]
    }

    /// Bytes of the converted matmul weights of a model with `layout`.
    static func bytes(layout: ParameterLayout, precision: Precision) -> Int {
        guard precision != .fp32 else { return 0 }
        let perLayer = matrixShapes(channels: layout.config.hiddenSize, intermediate: layout.config.intermediateSize)
        let elements = layout.layers.count * perLayer.reduce(0) { $0 + $1.rows * $1.cols }
        let rows = layout.layers.count * perLayer.reduce(0) { $0 + $1.rows }
        return bytes(elements: elements, rows: rows, precision: precision)
    }

    init(layout: ParameterLayout, precision: Precision) {
        precondition(precision != .fp32, "fp32 reads the master weights directly")
        self.precision = precision
        let perLayer = Self.matrixShapes(channels: layout.config.hiddenSize, intermediate: layout.config.intermediateSize)
        shapes = layout.layers.map { o in
            zip([o.qkvWeight, o.attentionOutputWeight, o.intermediateWeight, o.outputWeight], perLayer).map {
                (offset: $0, rows: $1.rows, cols: $1.cols)
            }
        }
        elements = shapes.joined().reduce(0) { $0 + $1.rows * $1.cols }
        let rows = shapes.joined().reduce(0) { $0 + $1.rows }
        // bf16: 2 bytes per element; int8: 1 byte per element plus a float scale per row.
        let bytes = Self.bytes(elements: elements, rows: rows, precision: precision)
        storage = .allocate(byteCount: max(1, bytes), alignment: 64)
        self.bytes = bytes
        var bf16 = storage.assumingMemoryBound(to: BF16.self)
        var int8 = storage.assumingMemoryBound(to: Int8.self)
        var scales = (storage + elements).assumingMemoryBound(to: Float.self)
        layers = shapes.map { layer in
            let matrices = layer.map { shape -> LowPrecisionMatrix in
                defer { bf16 += shape.rows * shape.cols; int8 += shape.rows * shape.cols; scales += shape.rows }
                return precision == .bf16 ? LowPrecisionMatrix(bf16: bf16, int8: nil, scales: nil)
                                          : LowPrecisionMatrix(bf16: nil, int8: int8, scales: scales)
            }
            return LowPrecisionLayer(qkv: matrices[0], attentionOutput: matrices[1], intermediate: matrices[2], output: matrices[3])
        }
    }

    deinit { storage.deallocate() }

    /// Converts the masters in `parameters` again.
    func refresh(from parameters: ConstFloatBuffer) {
        for (layer, shapes) in zip(layers, shapes) {
            for (matrix, shape) in zip([layer.qkv, layer.attentionOutput, layer.intermediate, layer.output], shapes) {
                let source = parameters + shape.offset
                if let bf16 = matrix.bf16 {
                    convertToBF16(out: UnsafeMutablePointer(mutating: bf16), inp: source, count: shape.rows * shape.cols)
                } else if let int8 = matrix.int8, let scales = matrix.scales {
                    quantizeWeightsInt8(out: UnsafeMutablePointer(mutating: int8), scales: UnsafeMutablePointer(mutating: scales),
                                        weight: source, rows: shape.rows, cols: shape.cols)
                }
            }
        }
    }
}

/// Scratch of the low-precision kernels, sized for a token capacity: the rounded matmul input, the
/// rounded q|k|v, the rounded output gradient (backward), the quantised input and its per-row scales
/// (int8).
final class LowPrecisionScratch {
    let channels: Int, intermediate: Int
    private(set) var capacity = 0
    private(set) var input: BF16Buffer!           // [N, max(C, I)]
    private(set) var qkv: BF16Buffer!             // [N, 3C]
    private(set) var gradient: BF16Buffer!        // [N, max(3C, I)]
    private(set) var quantized: UnsafeMutablePointer<Int8>!   // [N, max(C, I)]
    private(set) var rowScales: FloatBuffer!      // [N]
    private(set) var rowOffsets: FloatBuffer!     // [N]
    private var storage: UnsafeMutableRawPointer?

    init(channels: Int, intermediate: Int) {
        self.channels = channels
        self.intermediate = intermediate
    }

    deinit { storage?.deallocate() }

    /// Bytes of scratch for `tokens` tokens.
    static func bytes(channels: Int, intermediate: Int, tokens: Int) -> Int {
        let width = max(channels, intermediate), columns = max(3 * channels, intermediate)
        return 2 * tokens * width + 2 * tokens * 3 * channels + 2 * tokens * columns + tokens * width + 8 * tokens + 256
    }

    var bytes: Int { capacity == 0 ? 0 : Self.bytes(channels: channels, intermediate: intermediate, tokens: capacity) }

    func reserve(tokens: Int) {
        guard tokens > capacity else { return }
        storage?.deallocate()
        let width = max(channels, intermediate), columns = max(3 * channels, intermediate)
        let inputBytes = 2 * tokens * width, qkvBytes = 2 * tokens * 3 * channels, quantizedBytes = tokens * width
        let gradientBytes = 2 * tokens * columns
        let raw = UnsafeMutableRawPointer.allocate(byteCount: Self.bytes(channels: channels, intermediate: intermediate, tokens: tokens),
                                                   alignment: 64)
        storage = raw
        input = raw.assumingMemoryBound(to: BF16.self)
        qkv = (raw + inputBytes).assumingMemoryBound(to: BF16.self)
        gradient = (raw + inputBytes + qkvBytes).assumingMemoryBound(to: BF16.self)
        quantized = (raw + inputBytes + qkvBytes + gradientBytes).assumingMemoryBound(to: Int8.self)
        let scalesOffset = (inputBytes + qkvBytes + gradientBytes + quantizedBytes + 63) & ~63
        rowScales = (raw + scalesOffset).assumingMemoryBound(to: Float.self)
        rowOffsets = rowScales + tokens
        capacity = tokens
    }
}
