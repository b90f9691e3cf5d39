import Foundation
import Kernels

/// One weight of a static int8 layer: s8 values [n, k] (plain, or packed for oneDNN), its matmul's column
/// scales (the input's scale times each output channel's), and the bias divided by them (oneDNN adds the
/// bias to the integer sums before scaling).
struct Int8Matrix {
    let values: UnsafeRawPointer
    let layout: PackedLayout?
    let scales: ColumnScales
    /// nil where the bias is added after the product (the per-token second feed-forward matmul's dequantisation).
    let bias: ConstFloatBuffer?
}

/// The second feed-forward matmul of a static int8 layer: int8 with a scale and an offset per token (`quantizeRowsInt8`),
/// or bf16.
enum SecondFeedForward {
    /// The weight smoothed per input channel and quantised; `multipliers` 1 / sⱼ smooth the input before its
    /// centred per-token quantisation; `weightSums` [n], each dequantised weight row's sum, bring the offsets back.
    case perToken(Int8Matrix, multipliers: ConstFloatBuffer, weightSums: ConstFloatBuffer)
    case bf16(FusedMatrix)
}

/// An encoder layer's weights and scales for the static int8 inference layer (`encoderLayerForwardInt8`): three
/// int8 matmuls on static scales and the second feed-forward one per token (its input, the GELU output, does not
/// survive one static scale per tensor: see `StaticInt8Weights`).
struct Int8LayerWeights {
    let qkv, attentionOutput, intermediate: Int8Matrix
    let output: SecondFeedForward
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
/// - the second feed-forward weight smoothed per input channel by the GELU output's maxima and quantised per
///   output channel, its input smoothed and quantised per token, centred on the token's range, at every call
///   (`quantizeRowsInt8`), in every layer but the first. That input has outlier channels: one static scale at the
///   99.99th percentile clipped too much (a 6-layer MiniLM teacher lost 1.0 SQuAD F1), per token with a symmetric
///   scale each token's step is set by them (−1.8 unsmoothed, −0.8 smoothed), and the first layer's, where the
///   per-token error is largest (on SQuAD train windows, 5 % at the 99th percentile of tokens against 1.4–3.6 % in
///   the later layers), costs most of what remains (docs/PRECISION.md): the first layer's stays bf16. Without
///   those maxima in the calibration (files made before), or with `MRC_INT8_SECOND_FFN=bf16`, every layer's does;
/// - packed for oneDNN's kernels where it has a layout, plain otherwise.
final class StaticInt8Weights {
    /// Whether the second feed-forward matmul runs int8 per token (else bf16); read when the weights are made.
    nonisolated(unsafe) static var perTokenSecondFeedForward = ProcessInfo.processInfo.environment["MRC_INT8_SECOND_FFN"] != "bf16"
    /// The scheme's name, for the fingerprints of what its outputs feed (a teacher's soft labels).
    static var scheme: String { perTokenSecondFeedForward ? "static-ffn2-centred" : "static" }

    private(set) var layers: [Int8LayerWeights] = []
    /// The backend they were made for (packed only for oneDNN).
    let backend = LowPrecision.backend
    private var allocations: [UnsafeMutableRawPointer] = []
    /// Bytes of those allocations (the weights, scaled biases, multipliers and sums; `Self.bytes(layout:)`).
    private(set) var bytes = 0

    init(parameters: ConstFloatBuffer, layout: ParameterLayout, calibration: Int8Calibration) throws {
        let C = layout.config.hiddenSize, I = layout.config.intermediateSize
        try calibration.check(layers: layout.layers.count, channels: C, intermediate: I)
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
                output: secondFeedForward(p + o.outputWeight, channelMax: made.isEmpty ? nil : stats.feedForwardChannelMax,
                                          rows: C, cols: I),
                inputMultipliers: floats(qkvMultipliers), norm1Multipliers: floats(ffnMultipliers),
                contextMultiplier: 1 / contextScale))
        }
        layers = made
    }

    deinit { allocations.forEach { $0.deallocate() } }

    /// Bytes the static int8 weights of a model shaped as `layout` allocate, from a calibration with the GELU
    /// output's maxima (as `calibrate` writes them): with `perTokenSecondFeedForward`, every layer's second
    /// feed-forward weight but the first's in s8, else all in bf16. The column-scale arrays (4 bytes an output
    /// channel) are not counted.
    static func bytes(layout: ParameterLayout) -> Int {
        let C = layout.config.hiddenSize, I = layout.config.intermediateSize, layers = layout.layers.count
        func s8(_ rows: Int, _ cols: Int) -> Int {
            OneDNN.packedLayout(k: cols, n: rows, element: .s8).map { max(64, $0.bytes) } ?? rows * cols
        }
        func bf16(_ rows: Int, _ cols: Int) -> Int { OneDNN.packedLayout(k: cols, n: rows).map { max(64, $0.bytes) } ?? 2 * rows * cols }
        func floats(_ count: Int) -> Int { 4 * max(1, count) }
        let shared = s8(3 * C, C) + floats(3 * C) + s8(C, C) + floats(C) + s8(I, C) + floats(I) + 2 * floats(C)
        let secondFeedForward = perTokenSecondFeedForward ? s8(C, I) + floats(I) + floats(C) : bf16(C, I)
        return layers == 0 ? 0 : layers * shared + bf16(C, I) + (layers - 1) * secondFeedForward
    }

    /// Keeps `pointer` (`count` bytes) until the weights go.
    private func keep(_ pointer: UnsafeMutableRawPointer, bytes count: Int) {
        allocations.append(pointer)
        bytes += count
    }

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
    /// column scales `inputScale · w_row` and bias / those scales (none without a bias).
    /// `rowSums`, when given, gets each quantised row's sum in dequantised units, `Σₖ q[r, k] · scales[r]`.
    private func matrix(_ weight: ConstFloatBuffer, bias: ConstFloatBuffer?, rows: Int, cols: Int, smoothing: [Float]?,
                        inputScale: Float, rowSums: UnsafeMutablePointer<[Float]>? = nil) -> Int8Matrix {
        let smoothed = FloatBuffer.allocate(capacity: rows * cols)
        let rowScales = FloatBuffer.allocate(capacity: rows)
        let plain = UnsafeMutablePointer<Int8>.allocate(capacity: rows * cols)
        defer { smoothed.deallocate(); rowScales.deallocate() }
        for r in 0..<rows {
            for j in 0..<cols { smoothed[r * cols + j] = weight[r * cols + j] * (smoothing?[j] ?? 1) }
        }
        quantizeWeightsInt8(out: plain, scales: rowScales, weight: smoothed, rows: rows, cols: cols)
        let scales = (0..<rows).map { inputScale * rowScales[$0] }
        let scaledBias = bias.map { b in floats((0..<rows).map { b[$0] / scales[$0] }) }
        rowSums?.pointee = (0..<rows).map { r in Float((0..<cols).reduce(0) { $0 + Int(plain[r * cols + $1]) }) * scales[r] }
        var values = UnsafeRawPointer(plain), layout: PackedLayout? = nil
        if let packed = OneDNN.packedLayout(k: cols, n: rows, element: .s8) {
            let destination = UnsafeMutableRawPointer.allocate(byteCount: max(64, packed.bytes), alignment: 64)
            packed.pack(plain, ld: cols, into: destination)
            plain.deallocate()
            (values, layout) = (UnsafeRawPointer(destination), packed)
            keep(destination, bytes: max(64, packed.bytes))
        } else {
            keep(UnsafeMutableRawPointer(plain), bytes: rows * cols)
        }
        return Int8Matrix(values: values, layout: layout, scales: ColumnScales(scales), bias: scaledBias)
    }

    /// The second feed-forward weight: smoothed by the GELU output's channel maxima and quantised, for the per-token
    /// scheme, where it is on and the calibration has those maxima; bf16 otherwise.
    private func secondFeedForward(_ weight: ConstFloatBuffer, channelMax: [Float]?, rows: Int, cols: Int) -> SecondFeedForward {
        guard Self.perTokenSecondFeedForward, let channelMax else { return .bf16(bf16Matrix(weight, rows: rows, cols: cols)) }
        let (s, _, _) = Self.smoothing(channelMax: channelMax, weight: weight, rows: rows, cols: cols)
        var sums: [Float] = []
        let m = matrix(weight, bias: nil, rows: rows, cols: cols, smoothing: s, inputScale: 1, rowSums: &sums)
        return .perToken(m, multipliers: floats(s.map { 1 / $0 }), weightSums: floats(sums))
    }

    /// A weight [rows, cols] in bf16, packed for oneDNN where it has a layout.
    private func bf16Matrix(_ weight: ConstFloatBuffer, rows: Int, cols: Int) -> FusedMatrix {
        let plain = BF16Buffer.allocate(capacity: rows * cols)
        convertToBF16(out: plain, inp: weight, count: rows * cols)
        guard let packed = OneDNN.packedLayout(k: cols, n: rows) else {
            keep(UnsafeMutableRawPointer(plain), bytes: 2 * rows * cols)
            return FusedMatrix(values: plain, layout: nil)
        }
        let destination = UnsafeMutableRawPointer.allocate(byteCount: max(64, packed.bytes), alignment: 64)
        packed.pack(plain, ld: cols, into: destination)
        plain.deallocate()
        keep(destination, bytes: max(64, packed.bytes))
        return FusedMatrix(values: UnsafePointer(destination.assumingMemoryBound(to: BF16.self)), layout: packed)
    }

    private func floats(_ values: [Float]) -> ConstFloatBuffer {
        let buffer = FloatBuffer.allocate(capacity: max(1, values.count))
        buffer.initialize(from: values, count: values.count)
        keep(UnsafeMutableRawPointer(buffer), bytes: 4 * max(1, values.count))
        return UnsafePointer(buffer)
    }
}
