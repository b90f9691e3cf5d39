/// Which stretches of the flat parameter buffer receive weight decay.
///
/// AdamW's decoupled decay skips biases and LayerNorm weights (the model's layout says which
/// tensor decays). The optimizer walks these segments in order; they tile `0..<count` exactly.
public struct ParameterSegments: Sendable, Equatable {
    /// One contiguous range of the flat buffer and whether it is decayed.
    public struct Segment: Sendable, Equatable {
        public var range: Range<Int>
        public var decays: Bool
        public init(range: Range<Int>, decays: Bool) { self.range = range; self.decays = decays }
    }

    public let segments: [Segment]
    public let count: Int

    /// Builds segments from named tensors laid out in the flat buffer (any order; they must tile
    /// `0..<total` without gaps or overlaps). Adjacent ranges with the same decay flag are merged.
    public init(tensors: [(name: String, range: Range<Int>, decays: Bool)], total: Int) throws {
        let sorted = tensors.sorted { $0.range.lowerBound < $1.range.lowerBound }
        var merged: [Segment] = []
        var next = 0
        for tensor in sorted where !tensor.range.isEmpty {
            guard tensor.range.lowerBound == next else {
                throw TrainingError.invalidState(
                    "parameter \(tensor.name) starts at \(tensor.range.lowerBound), expected \(next): tensors must tile the buffer")
            }
            let decays = tensor.decays
            if let last = merged.last, last.decays == decays {
                merged[merged.count - 1].range = last.range.lowerBound..<tensor.range.upperBound
            } else {
                merged.append(Segment(range: tensor.range, decays: decays))
            }
            next = tensor.range.upperBound
        }
        guard next == total else {
            throw TrainingError.invalidState("parameters cover 0..<\(next) of a buffer of \(total) floats")
        }
        self.segments = merged
        self.count = total
    }

    /// Explicit segments (tests).
    public init(segments: [Segment]) {
        self.segments = segments
        self.count = segments.last?.range.upperBound ?? 0
    }
}
