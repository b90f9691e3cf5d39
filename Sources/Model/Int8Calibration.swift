import Foundation
import Kernels

/// What static int8 needs to know of a model's activations, measured once on real windows (`calibrateInt8`):
/// per layer, the largest |value| of each channel of the two LayerNorm outputs that feed a matmul (the layer
/// input, read by q|k|v, and LayerNorm 1's, read by the first feed-forward matmul), and a high percentile of
/// |value| of the attention context (the attention output matmul's input), and each channel's largest |value| of
/// the GELU output (the second feed-forward matmul's input, smoothed with it, then quantised per token at every
/// call: `StaticInt8Weights` says why).
///
/// The scales follow from these and the weights (`StaticInt8Weights`): the LayerNorm-fed inputs are smoothed
/// per channel first (SmoothQuant, α = 0.5: channel j divided by sⱼ = √(max|xⱼ|) / √(max|W·ⱼ|) and the
/// weight's column multiplied by it), which moves BERT's outlier channels into the weights; the context
/// takes a per-tensor scale at the percentile, which clips the rare outliers rather than flatten every value.
/// Stored as JSON beside the model (`fileName`) by `mrc-distill calibrate`.
public struct Int8Calibration: Codable, Equatable, Sendable {
    public static let fileName = "int8-calibration.json"
    /// The name of the static int8 scheme these scales run in (`StaticInt8Weights.scheme`): part of the fingerprint
    /// of what a calibrated model's outputs feed.
    public static var scheme: String { StaticInt8Weights.scheme }
    /// The percentile of |context| taken as its range.
    public static let percentile = 99.99

    public struct Layer: Codable, Equatable, Sendable {
        /// max |x[·, j]| of the layer input (the q|k|v matmul's), per channel.
        public var inputChannelMax: [Float]
        /// max |h[·, j]| of LayerNorm 1's output (the first feed-forward matmul's input), per channel.
        public var norm1ChannelMax: [Float]
        /// The `percentile`-th percentile of |context|, averaged over the calibration batches.
        public var contextRange: Float
        /// max |g[·, j]| of the GELU output (the second feed-forward matmul's input), per channel: its smoothing
        /// before the per-token quantisation. Absent from calibrations made before it (that matmul then stays bf16).
        public var feedForwardChannelMax: [Float]?
    }

    public var format = 1
    /// Where the statistics come from ("64 windows of train-v1.1.json").
    public var source: String
    public var layers: [Layer]

    public init(source: String, layers: [Layer]) {
        self.source = source
        self.layers = layers
    }

    /// The calibration stored in `directory`, or nil when it has none.
    public static func load(directory: URL) throws -> Int8Calibration? {
        let url = directory.appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        return try load(url: url)
    }

    public static func load(url: URL) throws -> Int8Calibration {
        let data = try Data(contentsOf: url)
        do {
            let calibration = try JSONDecoder().decode(Int8Calibration.self, from: data)
            guard calibration.format == 1 else {
                throw ModelError.invalidInput("\(url.path): int8 calibration format \(calibration.format); this build reads 1")
            }
            return calibration
        } catch let error as DecodingError {
            throw ModelError.invalidInput("\(url.path): not an int8 calibration (\(error))")
        }
    }

    public func write(to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: url, options: .atomic)
    }

    /// Whether it fits a model of `layers` layers of `channels` channels and `intermediate` feed-forward ones.
    func check(layers count: Int, channels: Int, intermediate: Int) throws {
        guard layers.count == count, layers.allSatisfy({
            $0.inputChannelMax.count == channels && $0.norm1ChannelMax.count == channels
                && ($0.feedForwardChannelMax?.count ?? intermediate) == intermediate
        })
        else {
            let widths = layers.first.map { "\($0.inputChannelMax.count) channels" + ($0.feedForwardChannelMax.map { " (\($0.count) feed-forward)" } ?? "") }
            throw ModelError.invalidInput("the int8 calibration (\(source)) has \(layers.count) layers of \(widths ?? "0 channels"); "
                                          + "the model has \(count) of \(channels) (\(intermediate) feed-forward)")
        }
        let values = layers.flatMap { $0.inputChannelMax + $0.norm1ChannelMax + [$0.contextRange] + ($0.feedForwardChannelMax ?? []) }
        guard values.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
            throw ModelError.invalidInput("the int8 calibration (\(source)) holds a negative or non-finite range")
        }
    }
}

/// Accumulates `Int8Calibration`'s statistics over batches.
struct Int8CalibrationStatistics {
    private var inputMax: [[Float]], norm1Max: [[Float]], feedForwardMax: [[Float]]
    private var contextRanges: [[Float]]

    init(layers: Int, channels: Int, intermediate: Int) {
        inputMax = Array(repeating: Array(repeating: 0, count: channels), count: layers)
        norm1Max = inputMax
        feedForwardMax = Array(repeating: Array(repeating: 0, count: intermediate), count: layers)
        contextRanges = Array(repeating: [], count: layers)
    }

    /// Adds layer `l` of one forward: its [tokens, channels] input, LayerNorm 1 output and context, and its
    /// [tokens, intermediate] GELU output; only the rows in `valid` (not padding) count.
    mutating func add(layer l: Int, input: ConstFloatBuffer, norm1: ConstFloatBuffer, context: ConstFloatBuffer,
                      feedForward: ConstFloatBuffer, valid: [Int], channels: Int, intermediate: Int) {
        for r in valid {
            for j in 0..<channels {
                inputMax[l][j] = max(inputMax[l][j], abs(input[r * channels + j]))
                norm1Max[l][j] = max(norm1Max[l][j], abs(norm1[r * channels + j]))
            }
            for j in 0..<intermediate { feedForwardMax[l][j] = max(feedForwardMax[l][j], abs(feedForward[r * intermediate + j])) }
        }
        contextRanges[l].append(Self.percentile(context, valid: valid, width: channels))
    }

    /// The `Int8Calibration.percentile`-th percentile of |x| over the valid rows (nearest rank, every value).
    static func percentile(_ x: ConstFloatBuffer, valid: [Int], width: Int) -> Float {
        var values: [Float] = []
        values.reserveCapacity(valid.count * width)
        for r in valid { for j in 0..<width { values.append(abs(x[r * width + j])) } }
        guard !values.isEmpty else { return 0 }
        values.sort()
        let rank = Int((Int8Calibration.percentile / 100 * Double(values.count)).rounded(.up)) - 1
        return values[min(values.count - 1, max(0, rank))]
    }

    func calibration(source: String) -> Int8Calibration {
        func mean(_ v: [Float]) -> Float { v.isEmpty ? 0 : v.reduce(0, +) / Float(v.count) }
        return Int8Calibration(source: source, layers: inputMax.indices.map { l in
            Int8Calibration.Layer(inputChannelMax: inputMax[l], norm1ChannelMax: norm1Max[l],
                                  contextRange: mean(contextRanges[l]), feedForwardChannelMax: feedForwardMax[l])
        })
    }
}

extension BertModel {
    /// Measures the statistics of static int8 (`Int8Calibration`) on `batches` with fp32 forwards (the model's
    /// own buffers, which a forward that keeps every layer's activations needs); `source` says what they are.
    /// The precision is restored afterwards.
    public func calibrateInt8(batches: [EncoderBatch], source: String) throws -> Int8Calibration {
        guard !sharesInferenceArena else {
            throw ModelError.invalidInput("calibration keeps every layer's activations: this model runs on a shared inference arena")
        }
        let kept = precision
        precision = .fp32
        defer { precision = kept }
        let C = config.hiddenSize, I = config.intermediateSize
        var statistics = Int8CalibrationStatistics(layers: layout.layers.count, channels: C, intermediate: I)
        for batch in batches {
            try encode(batch, forTraining: true)
            let valid = batch.attentionMask.indices.filter { batch.attentionMask[$0] != 0 }
            let a = activations
            for l in layout.layers.indices {
                let input = l == 0 ? UnsafePointer(a.embeddingOutput!) : UnsafePointer(a.slot(l - 1).output)
                statistics.add(layer: l, input: input, norm1: a.slot(l).norm1, context: a.slot(l).context,
                               feedForward: a.slot(l).ffnAct, valid: valid, channels: C, intermediate: I)
            }
        }
        saved = nil
        return statistics.calibration(source: source)
    }
}

extension BertModel {
    /// Sets `precision` and, in int8, the static scales the model directory holds (`Int8Calibration.fileName`),
    /// or none there (then int8 quantises per token at every call). A calibration that does not fit this model
    /// (measured on other layers: `--layers` keeps fewer) is refused here, naming the file.
    public func usePrecision(_ precision: Precision, modelDirectory: URL) throws {
        self.precision = precision
        int8Calibration = nil
        guard precision == .int8, let calibration = try Int8Calibration.load(directory: modelDirectory) else { return }
        do {
            try calibration.check(layers: layout.layers.count, channels: config.hiddenSize, intermediate: config.intermediateSize)
        } catch ModelError.invalidInput(let message) {
            throw ModelError.invalidInput("\(modelDirectory.appendingPathComponent(Int8Calibration.fileName).path): \(message); "
                                          + "static scales fit the model they were measured on (with --layers, save the selected "
                                          + "model and calibrate that, or move the file away for per-token int8)")
        }
        int8Calibration = calibration
    }
}
