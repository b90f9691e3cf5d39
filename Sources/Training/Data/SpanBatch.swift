/// One training window as the trainer sees it: token ids and token types of its real tokens
/// (no padding) and the gold start/end token positions.
public struct SpanTrainingWindow: Sendable, Equatable {
    public var inputIds: [Int32]
    public var tokenTypeIds: [Int32]
    public var startPosition: Int32
    public var endPosition: Int32
    public init(inputIds: [Int32], tokenTypeIds: [Int32], startPosition: Int32, endPosition: Int32) {
        self.inputIds = inputIds; self.tokenTypeIds = tokenTypeIds
        self.startPosition = startPosition; self.endPosition = endPosition
    }
    public var length: Int { inputIds.count }
}

/// A padded batch ready for the model: row-major [rows, sequenceLength] buffers.
public struct SpanBatch: Sendable, Equatable {
    public var rows: Int
    public var sequenceLength: Int
    /// [rows, sequenceLength]; padding positions hold `padId`.
    public var inputIds: [Int32]
    /// [rows, sequenceLength]
    public var tokenTypeIds: [Int32]
    /// [rows, sequenceLength]; 1 for a real token, 0 for padding.
    public var attentionMask: [Int32]
    /// [rows]
    public var startPositions: [Int32]
    /// [rows]
    public var endPositions: [Int32]
    /// Real tokens in the batch (the throughput count).
    public var realTokens: Int

    /// Pads `windows` to `sequenceLength` (at least the longest window).
    public init(windows: [SpanTrainingWindow], sequenceLength: Int, padId: Int32 = 0) {
        let length = max(sequenceLength, windows.map(\.length).max() ?? 0)
        rows = windows.count
        self.sequenceLength = length
        inputIds = [Int32](repeating: padId, count: rows * length)
        tokenTypeIds = [Int32](repeating: 0, count: rows * length)
        attentionMask = [Int32](repeating: 0, count: rows * length)
        startPositions = windows.map(\.startPosition)
        endPositions = windows.map(\.endPosition)
        realTokens = 0
        for (row, window) in windows.enumerated() {
            for t in 0..<window.length {
                inputIds[row * length + t] = window.inputIds[t]
                tokenTypeIds[row * length + t] = window.tokenTypeIds[t]
                attentionMask[row * length + t] = 1
            }
            realTokens += window.length
        }
    }
}
