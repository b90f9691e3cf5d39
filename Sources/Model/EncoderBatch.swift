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

extension EncoderBatch {
    /// One `[CLS] question [SEP] context [SEP]` row (token types 0 for the question part, 1 for the
    /// context part), the context truncated so that the row has at most `maxSeqLen` tokens.
    public static func questionContextPair(questionIds: [Int32], contextIds: [Int32], clsId: Int32, sepId: Int32,
                                           maxSeqLen: Int) throws -> EncoderBatch {
        let room = maxSeqLen - questionIds.count - 3
        guard room > 0 || (room == 0 && contextIds.isEmpty) else {
            throw ModelError.invalidInput("a question of \(questionIds.count) tokens leaves no room for context in \(maxSeqLen) tokens")
        }
        let context = contextIds.prefix(room)
        let ids = [clsId] + questionIds + [sepId] + context + [sepId]
        let types = [Int32](repeating: 0, count: questionIds.count + 2) + [Int32](repeating: 1, count: context.count + 1)
        return try EncoderBatch(batch: 1, seqLen: ids.count, inputIds: ids, tokenTypeIds: types)
    }
}
