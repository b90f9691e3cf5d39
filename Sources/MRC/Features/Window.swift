/// One model input (a "feature"): `[CLS] question [SEP] context-slice [SEP]`, padded to the
/// window length, with what training needs (labels) and what decoding needs (character offsets,
/// max-context flags).
public struct Window: Sendable {
    /// Index of the example in the list the windows were built from.
    public var exampleIndex: Int
    /// Index of this window among its example's windows.
    public var windowIndex: Int
    /// [maxSeqLen] token ids, `[PAD]` after `length`.
    public var inputIds: [Int32]
    /// [maxSeqLen] 0 for `[CLS] question [SEP]`, 1 for `context [SEP]`, 0 for padding.
    public var tokenTypeIds: [Int32]
    /// [maxSeqLen] 1 for real tokens, 0 for padding.
    public var attentionMask: [Int32]
    /// Number of real tokens.
    public var length: Int
    /// Position of the first context token (question tokens + 2).
    public var contextStart: Int
    /// First context token's index among the whole context's tokens.
    public var contextTokenStart: Int
    /// [context tokens in window] character range (Unicode scalars) of each context token.
    public var contextOffsets: [Range<Int>]
    /// [context tokens in window] whether this window gives the token its maximal context.
    public var contextIsMaxContext: [Bool]
    /// Gold start/end token positions in `inputIds`; 0 (`[CLS]`) when the answer is not in the window.
    public var startPosition: Int
    public var endPosition: Int
    /// Why the labels are what they are.
    public var label: AnswerLabel

    public init(exampleIndex: Int, windowIndex: Int, inputIds: [Int32], tokenTypeIds: [Int32], attentionMask: [Int32],
                length: Int, contextStart: Int, contextTokenStart: Int, contextOffsets: [Range<Int>],
                contextIsMaxContext: [Bool], startPosition: Int, endPosition: Int, label: AnswerLabel) {
        self.exampleIndex = exampleIndex; self.windowIndex = windowIndex; self.inputIds = inputIds
        self.tokenTypeIds = tokenTypeIds; self.attentionMask = attentionMask; self.length = length
        self.contextStart = contextStart; self.contextTokenStart = contextTokenStart; self.contextOffsets = contextOffsets
        self.contextIsMaxContext = contextIsMaxContext; self.startPosition = startPosition
        self.endPosition = endPosition; self.label = label
    }

    /// Number of context tokens in the window.
    public var contextCount: Int { contextOffsets.count }

    /// Whether token `position` of `inputIds` is a context token.
    public func isContext(_ position: Int) -> Bool {
        position >= contextStart && position < contextStart + contextOffsets.count
    }

    /// Character range of the token at `position` in `inputIds`, nil for question, special and padding tokens.
    public func characterRange(ofToken position: Int) -> Range<Int>? {
        isContext(position) ? contextOffsets[position - contextStart] : nil
    }

    /// Whether the token at `position` is a context token having its maximal context in this window.
    public func isMaxContext(_ position: Int) -> Bool {
        isContext(position) && contextIsMaxContext[position - contextStart]
    }
}

/// The state of a window's labels.
public enum AnswerLabel: String, Sendable {
    /// The first answer lies wholly in the window: start/end point at its tokens.
    case inWindow = "answer"
    /// The answer lies (at least partly) outside the window: start = end = 0 (`[CLS]`).
    case outsideWindow = "outside"
    /// SQuAD 2.0 unanswerable question: start = end = 0.
    case impossible
    /// The example has no answer span that maps onto tokens (none given, or none valid): start = end = 0,
    /// and the window must not be trained on as if the answer were absent.
    case unlabelled
}
