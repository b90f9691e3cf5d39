import Kernels

/// One bf16 weight as a matmul of the fused layer reads it: plain [out, in], or packed in `layout`.
struct FusedMatrix {
    let values: ConstBF16Buffer
    let layout: PackedLayout?
}

/// An encoder layer's four bf16 weights for the fused inference layer.
struct FusedLayerWeights {
    let qkv, attentionOutput, intermediate, output: FusedMatrix

    /// The plain bf16 weights of `layer` (the reference backend, or a CPU without a packed layout).
    init(plain layer: LowPrecisionLayer) {
        func plain(_ m: LowPrecisionMatrix) -> FusedMatrix {
            guard let values = m.bf16 else { preconditionFailure("the fused layer runs bf16 weights") }
            return FusedMatrix(values: values, layout: nil)
        }
        (qkv, attentionOutput, intermediate, output) =
            (plain(layer.qkv), plain(layer.attentionOutput), plain(layer.intermediate), plain(layer.output))
    }

    init(qkv: FusedMatrix, attentionOutput: FusedMatrix, intermediate: FusedMatrix, output: FusedMatrix) {
        (self.qkv, self.attentionOutput, self.intermediate, self.output) = (qkv, attentionOutput, intermediate, output)
    }
}

/// The encoder's bf16 matmul weights packed into the layout oneDNN's kernels read (AMX or AVX-512 BF16
/// blocking): a matmul on a plain weight repacks it on every call, in every worker. For inference they are made
/// once from the plain bf16 copies, which the model then frees (`BertModel.prepareFused`); a bf16 training forward
/// packs them again at every step (`repack`) beside the plain copies its backward reads.
final class PackedWeights {
    let layers: [FusedLayerWeights]
    let bytes: Int
    private let storage: UnsafeMutableRawPointer

    /// A layer's four weight shapes (`LowPrecisionWeights.matrixShapes`): n = out, k = in.
    private static func shapes(_ config: ModelDimensions) -> [(n: Int, k: Int)] {
        LowPrecisionWeights.matrixShapes(channels: config.channels, intermediate: config.intermediate).map { ($0.rows, $0.cols) }
    }

    /// The layouts of a layer's four weights, or nil where one has none here (reference backend, AVX2, ...).
    private static func layouts(_ config: ModelDimensions) -> [PackedLayout]? {
        var layouts: [PackedLayout] = []
        for (n, k) in shapes(config) {
            guard let layout = OneDNN.packedLayout(k: k, n: n) else { return nil }
            layouts.append(layout)
        }
        return layouts
    }

    /// Bytes of a layer's packed weights (each matrix from a 64-byte boundary; blocked layouts pad).
    private static func layerBytes(_ layouts: [PackedLayout]) -> [Int] { layouts.map { ($0.bytes + 63) & ~63 } }

    /// Bytes of the bf16 weights of a fused inference forward of a model with `layout`: packed where this
    /// CPU has the layouts, else the plain copies.
    static func bytes(layout: ParameterLayout) -> Int {
        packedBytes(layout: layout) ?? LowPrecisionWeights.bytes(layout: layout, precision: .bf16)
    }

    /// Bytes of the packed weights, or nil where this CPU or backend has no packed layout.
    static func packedBytes(layout: ParameterLayout) -> Int? {
        layouts(ModelDimensions(config: layout.config)).map { layout.layers.count * layerBytes($0).reduce(0, +) }
    }

    /// Packs `plain`, or nil where a shape has no packed layout here.
    init?(packing plain: LowPrecisionWeights, config: ModelDimensions) {
        guard plain.precision == .bf16, let layouts = Self.layouts(config) else { return nil }
        let shapes = Self.shapes(config)
        let sizes = Self.layerBytes(layouts)
        let bytes = sizes.reduce(0, +) * plain.layers.count
        let storage = UnsafeMutableRawPointer.allocate(byteCount: max(64, bytes), alignment: 64)
        (self.bytes, self.storage) = (bytes, storage)
        var offset = 0
        layers = plain.layers.map { layer in
            let sources = [layer.qkv, layer.attentionOutput, layer.intermediate, layer.output]
            var packed: [FusedMatrix] = []
            for (index, source) in sources.enumerated() {
                let destination = storage + offset
                layouts[index].pack(source.bf16!, ld: shapes[index].k, into: destination)
                packed.append(FusedMatrix(values: UnsafePointer(destination.assumingMemoryBound(to: BF16.self)),
                                          layout: layouts[index]))
                offset += sizes[index]
            }
            return FusedLayerWeights(qkv: packed[0], attentionOutput: packed[1], intermediate: packed[2], output: packed[3])
        }
    }

    /// Packs `plain` again into the same storage (a training step changed the weights).
    func repack(from plain: LowPrecisionWeights) {
        for (packed, layer) in zip(layers, plain.layers) {
            for (destination, source) in [(packed.qkv, layer.qkv), (packed.attentionOutput, layer.attentionOutput),
                                          (packed.intermediate, layer.intermediate), (packed.output, layer.output)] {
                guard let layout = destination.layout, let values = source.bf16 else { continue }
                layout.pack(values, ld: layout.k, into: UnsafeMutableRawPointer(mutating: destination.values))
            }
        }
    }

    deinit { storage.deallocate() }
}
