/// One batch of encoder inputs, row-major [batch, seqLen]. Position ids are 0..<seqLen in every row.
public struct EncoderBatch: Sendable {
    public let batch: Int
    public let seqLen: Int
    public let inputIds: [Int32]       // [B, T]
    public let tokenTypeIds: [Int32]   // [B, T]
    /// 1 for a real token, 0 for padding.
    public let attentionMask: [Int32]  // [B, T]

    public var tokenCount: Int { batch * seqLen }

    /// Checks the sizes; ids are checked against a model's vocabulary by its forward.
    public init(batch: Int, seqLen: Int, inputIds: [Int32], tokenTypeIds: [Int32]? = nil, attentionMask: [Int32]? = nil) throws {
        guard batch > 0, seqLen > 0 else { throw ModelError.invalidInput("batch \(batch) × seqLen \(seqLen) is empty") }
        let count = batch * seqLen
        let tokenTypeIds = tokenTypeIds ?? [Int32](repeating: 0, count: count)
        let attentionMask = attentionMask ?? [Int32](repeating: 1, count: count)
        for (name, array) in [("input_ids", inputIds), ("token_type_ids", tokenTypeIds), ("attention_mask", attentionMask)]
        where array.count != count {
            throw ModelError.invalidInput("\(name) has \(array.count) values, expected batch \(batch) × seqLen \(seqLen) = \(count)")
        }
        if let bad = attentionMask.firstIndex(where: { $0 != 0 && $0 != 1 }) {
            throw ModelError.invalidInput("attention_mask[\(bad)] = \(attentionMask[bad]), expected 0 or 1")
        }
        self.batch = batch
        self.seqLen = seqLen
        self.inputIds = inputIds
        self.tokenTypeIds = tokenTypeIds
        self.attentionMask = attentionMask
    }
}

/// Invalid inputs or use of a model.
public enum ModelError: Error, CustomStringConvertible, Equatable, Sendable {
    case invalidInput(String)
    case missingHead(String)

    public var description: String {
        switch self {
        case let .invalidInput(message): return "invalid model input: \(message)"
        case let .missingHead(message): return message
        }
    }
}
