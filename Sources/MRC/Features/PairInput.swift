import Checkpoint
import Text

/// One question + context-slice input, padded to its length: ids, token types and attention mask, laid out
/// by the tokenizer's `PairTemplate` (`[CLS] q [SEP] c [SEP]`, or RoBERTa's `<s> q </s></s> c </s>`).
public struct PairInput {
    public var inputIds: [Int32]
    public var tokenTypeIds: [Int32]
    public var attentionMask: [Int32]
    /// Position of the first context token.
    public var contextStart: Int
    /// Real tokens.
    public var length: Int

    /// `question` and `context` ids (already cut to fit) in a row of `paddedLength` tokens.
    public init<Context: Collection<Int32>>(question: [Int32], context: Context, template: PairTemplate, vocabulary: Vocabulary,
                                     paddedLength: Int) {
        contextStart = template.contextStart(questionTokens: question.count)
        length = contextStart + context.count + 1
        precondition(length <= paddedLength, "a window of \(length) tokens in a row of \(paddedLength)")
        inputIds = [Int32](repeating: vocabulary.padId, count: paddedLength)
        tokenTypeIds = [Int32](repeating: 0, count: paddedLength)
        attentionMask = [Int32](repeating: 0, count: paddedLength)
        inputIds[0] = vocabulary.clsId
        for (position, id) in question.enumerated() { inputIds[1 + position] = id }
        for position in (1 + question.count)..<contextStart { inputIds[position] = vocabulary.sepId }
        for (position, id) in zip(contextStart..., context) { inputIds[position] = id }
        inputIds[length - 1] = vocabulary.sepId
        if template.contextTypeId != 0 {
            for position in contextStart..<length { tokenTypeIds[position] = template.contextTypeId }
        }
        for position in 0..<length { attentionMask[position] = 1 }
    }
}
