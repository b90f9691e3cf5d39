import Kernels

/// One weight of a static int8 layer: s8 values [n, k] (plain, or packed for oneDNN), its matmul's column
/// scales (the input's scale times each output channel's), and the bias divided by them (oneDNN adds the
/// bias to the integer sums before scaling).
struct Int8Matrix {
    let values: UnsafeRawPointer
    let layout: PackedLayout?
    let scales: ColumnScales
    let bias: ConstFloatBuffer
}

/// An encoder layer's weights and scales for the static int8 inference layer (`encoderLayerForwardInt8`): three
/// int8 matmuls and the second feed-forward one in bf16 (its input, the GELU output, does not survive one
/// static scale per tensor: see `StaticInt8Weights`).
struct Int8LayerWeights {
    let qkv, attentionOutput, intermediate: Int8Matrix
    let output: FusedMatrix
    /// 1 / (sⱼ · a) per channel: quantises the layer input (smoothed) for the q|k|v matmul.
    let inputMultipliers: ConstFloatBuffer
    /// The same for LayerNorm 1's output, the first feed-forward matmul's input.
    let norm1Multipliers: ConstFloatBuffer
    /// 1 / a of the attention context.
    let contextMultiplier: Float
}

/// The encoder's matmul weights for static int8 inference, made once from the fp32 masters and an
/// `Int8Calibration`:
/// - q|k|v and the first feed-forward weight smoothed per input channel (`Int8Calibration`), then each
///   quantised per output channel (symmetric, 127 levels), like the attention output's;
/// - the second feed-forward weight in bf16: its input, the GELU output, has outlier channels that one static
///   scale at the 99.99th percentile clips too much (a 6-layer MiniLM teacher lost 1.0 SQuAD F1 with it int8,
///   0.1 without; `scripts/recipes/precision-squad`);
/// - packed for oneDNN's kernels where it has a layout, plain otherwise.
final class StaticInt8Weights {
    private(set) var layers: [Int8LayerWeights] = []
    /// The backend they were made for (packed only for oneDNN).
    let backend = LowPrecision.backend
    private var allocations: [UnsafeMutableRawPointer] = []

    init(parameters: ConstFloatBuffer, layout: ParameterLayout, calibration: Int8Calibration) throws {
        let C = layout.config.hiddenSize, I = layout.config.intermediateSize
        try calibration.check(layers: layout.layers.count, channels: C)
        var made: [Int8LayerWeights] = []
        for (o, stats) in zip(layout.layers, calibration.layers) {
            let p = parameters
            let (qkvSmoothing, qkvMultipliers, qkvScale) = Self.smoothing(channelMax: stats.inputChannelMax, weight: p + o.qkvWeight,
                                                                          rows: 3 * C, cols: C)
            let (ffnSmoothing, ffnMultipliers, ffnScale) = Self.smoothing(channelMax: stats.norm1ChannelMax,
                                                                          weight: p + o.intermediateWeight, rows: I, cols: C)
            let contextScale = Self.scale(range: stats.contextRange)
            made.append(Int8LayerWeights(
                qkv: matrix(p + o.qkvWeight, bias: p + o.qkvBias, rows: 3 * C, cols: C, smoothing: qkvSmoothing, inputScale: qkvScale),
                attentionOutput: matrix(p + o.attentionOutputWeight, bias: p + o.attentionOutputBias, rows: C, cols: C,
                                        smoothing: nil, inputScale: contextScale),
                intermediate: matrix(p + o.intermediateWeight, bias: p + o.intermediateBias, rows: I, cols: C,
                                     smoothing: ffnSmoothing, inputScale: ffnScale),
                output: bf16Matrix(p + o.outputWeight, rows: C, cols: I),
                inputMultipliers: floats(qkvMultipliers), norm1Multipliers: floats(ffnMultipliers),
                contextMultiplier: 1 / contextScale))
        }
        layers = made
    }

    deinit { allocations.forEach { $0.deallocate() } }

    /// The scale of a symmetric 127-level quantisation of values within ±`range` (1 for an all-zero input).
    private static func scale(range: Float) -> Float { range > 0 ? range / 127 : 1 }

    /// SmoothQuant's sⱼ = √(max|xⱼ|) / √(max|W·ⱼ|) for a weight [rows, cols] and its input's channel maxima, the
    /// input's scale after smoothing (its largest max|xⱼ| / sⱼ over 127) and the multipliers 1 / (sⱼ · a).
    private static func smoothing(channelMax: [Float], weight: ConstFloatBuffer, rows: Int,
                                  cols: Int) -> (s: [Float], multipliers: [Float], scale: Float) {
        var weightMax = [Float](repeating: 0, count: cols)
        for r in 0..<rows { for j in 0..<cols { weightMax[j] = max(weightMax[j], abs(weight[r * cols + j])) } }
        let floor: Float = 1e-5
        let s = zip(channelMax, weightMax).map { (max($0, floor).squareRoot() / max($1, floor).squareRoot()) }
        let a = scale(range: zip(channelMax, s).map { $0 / $1 }.max() ?? 0)
        return (s, s.map { 1 / ($0 * a) }, a)
    }

    /// A weight [rows, cols] smoothed (columns times `smoothing`), quantised per row and packed, with its
    /// column scales `inputScale · w_row` and bias / those scales.
    private func matrix(_ weight: ConstFloatBuffer, bias: ConstFloatBuffer, rows: Int, cols: Int, smoothing: [Float]?,
                        inputScale: Float) -> Int8Matrix {
        let smoothed = FloatBuffer.allocate(capacity: rows * cols)
        let rowScales = FloatBuffer.allocate(capacity: rows)
        let plain = UnsafeMutablePointer<Int8>.allocate(capacity: rows * cols)
        defer { smoothed.deallocate(); rowScales.deallocate() }
        for r in 0..<rows {
            for j in 0..<cols { smoothed[r * cols + j] = weight[r * cols + j] * (smoothing?[j] ?? 1) }
        }
        quantizeWeightsInt8(out: plain, scales: rowScales, weight: smoothed, rows: rows, cols: cols)
        let scales = (0..<rows).map { inputScale * rowScales[$0] }
        let scaledBias = floats((0..<rows).map { bias[$0] / scales[$0] })
        var values = UnsafeRawPointer(plain), layout: PackedLayout? = nil
        if let packed = OneDNN.packedLayout(k: cols, n: rows, element: .s8) {
            let destination = UnsafeMutableRawPointer.allocate(byteCount: max(64, packed.bytes), alignment: 64)
            packed.pack(plain, ld: cols, into: destination)
            plain.deallocate()
            (values, layout) = (UnsafeRawPointer(destination), packed)
            allocations.append(destination)
        } else {
            allocations.append(UnsafeMutableRawPointer(plain))
        }
        return Int8Matrix(values: values, layout: layout, scales: ColumnScales(scales), bias: scaledBias)
    }

    /// A weight [rows, cols] in bf16, packed for oneDNN where it has a layout.
    private func bf16Matrix(_ weight: ConstFloatBuffer, rows: Int, cols: Int) -> FusedMatrix {
        let plain = BF16Buffer.allocate(capacity: rows * cols)
        convertToBF16(out: plain, inp: weight, count: rows * cols)
        guard let packed = OneDNN.packedLayout(k: cols, n: rows) else {
            allocations.append(UnsafeMutableRawPointer(plain))
            return FusedMatrix(values: plain, layout: nil)
        }
        let destination = UnsafeMutableRawPointer.allocate(byteCount: max(64, packed.bytes), alignment: 64)
        packed.pack(plain, ld: cols, into: destination)
        plain.deallocate()
        allocations.append(destination)
        return FusedMatrix(values: UnsafePointer(destination.assumingMemoryBound(to: BF16.self)), layout: packed)
    }

    private func floats(_ values: [Float]) -> ConstFloatBuffer {
        let buffer = FloatBuffer.allocate(capacity: max(1, values.count))
        buffer.initialize(from: values, count: values.count)
        allocations.append(UnsafeMutableRawPointer(buffer))
        return UnsafePointer(buffer)
    }
}
