import Text

/// Window lengths and strides (BERT/D-NET defaults: 384, 128, 64).
public struct WindowSettings: Sendable, Equatable {
    /// Tokens per window including `[CLS]` and two `[SEP]` (at most 512, BERT's positions).
    public var maxSeqLen: Int
    /// Tokens the window start advances by.
    public var docStride: Int
    /// Question tokens kept (the rest are cut).
    public var maxQueryLen: Int

    public init(maxSeqLen: Int = 384, docStride: Int = 128, maxQueryLen: Int = 64) {
        self.maxSeqLen = maxSeqLen
        self.docStride = docStride
        self.maxQueryLen = maxQueryLen
    }

    /// Throws unless every window can hold a full question and at least one context token.
    public func validate() throws {
        guard maxSeqLen <= 512 else { throw WindowSettingsError("max_seq_len \(maxSeqLen) is above 512") }
        guard docStride > 0 else { throw WindowSettingsError("doc_stride must be positive, not \(docStride)") }
        guard maxQueryLen > 0 else { throw WindowSettingsError("max_query_len must be positive, not \(maxQueryLen)") }
        guard maxSeqLen - maxQueryLen - 3 > 0 else {
            throw WindowSettingsError("max_seq_len \(maxSeqLen) leaves no room for context after a \(maxQueryLen)-token question")
        }
    }
}

/// Invalid window settings.
public struct WindowSettingsError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// What featurising a list of examples did.
public struct FeatureReport: Sendable {
    public var examples = 0
    public var windows = 0
    /// Questions longer than `maxQueryLen` tokens (cut).
    public var truncatedQuestions = 0
    /// Examples with an answer that no window holds whole (every window says `[CLS]`).
    public var answersLostToTruncation = 0
    /// Examples whose answer spans map onto no token (or that have none while answerable).
    public var unlabelledExamples = 0
    /// Examples whose context produced no tokens: they get no window.
    public var emptyContexts = 0
    /// The first example left out of training (unlabelled or without context), and why: what `--strict` reports.
    public var firstSkipped: (id: String, reason: String)?

    public init() {}

    /// Adds the counts of another part of the same file (the first skip stays the earlier one's).
    public mutating func add(_ other: FeatureReport) {
        examples += other.examples
        windows += other.windows
        truncatedQuestions += other.truncatedQuestions
        answersLostToTruncation += other.answersLostToTruncation
        unlabelledExamples += other.unlabelledExamples
        emptyContexts += other.emptyContexts
        if firstSkipped == nil { firstSkipped = other.firstSkipped }
    }

    /// `--strict`: throws for the first example the featurisation left out, naming `file` and its question id.
    public func requireNothingSkipped(file: String) throws {
        guard let (id, reason) = firstSkipped else { return }
        throw DataReadError(file: file, location: "question \"\(id)\"", message: "--strict: the featurisation would skip it: \(reason)")
    }

    public var summary: String {
        "\(examples) examples → \(windows) windows; \(truncatedQuestions) questions truncated, "
            + "\(answersLostToTruncation) answers lost to truncation, \(unlabelledExamples) unlabelled, "
            + "\(emptyContexts) empty contexts"
    }
}

/// Builds the windows of examples: tokenises question and context, cuts the context with
/// `DocStride`, labels the first answer span through `AnswerAlignment`.
public struct WindowBuilder: Sendable {
    public let tokenizer: any Tokenizer
    public let settings: WindowSettings

    public init(tokenizer: any Tokenizer, settings: WindowSettings = WindowSettings()) throws {
        try settings.validate()
        let specials = tokenizer.pairTemplate.specialTokenCount
        guard settings.maxSeqLen - settings.maxQueryLen - specials > 0 else {
            throw WindowSettingsError("max_seq_len \(settings.maxSeqLen) leaves no room for context after a \(settings.maxQueryLen)-token "
                                      + "question and \(specials) special tokens")
        }
        self.tokenizer = tokenizer
        self.settings = settings
    }

    /// The windows of all `examples`, in order; `exampleIndex` indexes `examples`. With `labelled` false the
    /// gold answers are not used: every window is `.unlabelled` with start = end = 0, and the report does not
    /// count the examples as unlabelled (a transfer set, which only teachers label).
    public func windows(for examples: [MRCExample], labelled: Bool = true) -> (windows: [Window], report: FeatureReport) {
        var windows: [Window] = []
        windows.reserveCapacity(examples.count + examples.count / 4)
        var report = FeatureReport()
        // Questions of one paragraph follow each other and share its context: tokenise it once.
        var cachedContext: [Unicode.Scalar] = []
        var cachedEncoding = Encoding()
        for (index, example) in examples.enumerated() {
            if example.context.scalars != cachedContext {
                cachedContext = example.context.scalars
                cachedEncoding = tokenizer.encode(example.context.string)
            }
            windows += self.windows(for: example, exampleIndex: index, contextEncoding: cachedEncoding, labelled: labelled,
                                    report: &report)
        }
        return (windows, report)
    }

    /// The windows of one example, given its context's encoding.
    public func windows(for example: MRCExample, exampleIndex: Int, contextEncoding context: Encoding, labelled: Bool = true,
                        report: inout FeatureReport) -> [Window] {
        report.examples += 1
        var questionIds = tokenizer.encode(example.questionToTokenise).ids
        if questionIds.count > settings.maxQueryLen {
            questionIds.removeLast(questionIds.count - settings.maxQueryLen)
            report.truncatedQuestions += 1
        }
        let template = tokenizer.pairTemplate
        let maxContextTokens = settings.maxSeqLen - questionIds.count - template.specialTokenCount
        let spans = DocStride.spans(contextTokenCount: context.count, maxContextTokens: maxContextTokens,
                                    docStride: settings.docStride)
        if spans.isEmpty {
            report.emptyContexts += 1
            if report.firstSkipped == nil { report.firstSkipped = (example.predictionKey, "its context has no tokens, so it gets no window") }
            return []
        }

        // The answer's token span in the whole context (first valid span, as BERT trains on).
        var answerTokens: (start: Int, end: Int)?
        var baseLabel = AnswerLabel.unlabelled
        if !labelled {
            // No gold: the windows carry no answer.
        } else if example.isImpossible {
            baseLabel = .impossible
        } else if let span = example.answerSpans.first,
                  let tokens = AnswerAlignment.tokenSpan(of: span.characters, in: context.offsets) {
            answerTokens = tokens
        } else {
            report.unlabelledExamples += 1
            if report.firstSkipped == nil {
                report.firstSkipped = (example.predictionKey, example.answerSpans.isEmpty
                                       ? "it is answerable but has no answer span"
                                       : "its answer span \(example.answerSpans[0].characters) covers no token of the context")
            }
        }

        let contextStart = template.contextStart(questionTokens: questionIds.count)
        var windows: [Window] = []
        windows.reserveCapacity(spans.count)
        var answerFound = false
        for (spanIndex, span) in spans.enumerated() {
            let input = PairInput(question: questionIds, context: context.ids[span], template: template,
                                  vocabulary: tokenizer.vocabulary, paddedLength: settings.maxSeqLen)

            var label = baseLabel
            var startPosition = 0
            var endPosition = 0
            if let answer = answerTokens {
                if answer.start >= span.lowerBound && answer.end < span.upperBound {
                    label = .inWindow
                    startPosition = contextStart + answer.start - span.lowerBound
                    endPosition = contextStart + answer.end - span.lowerBound
                    answerFound = true
                } else {
                    label = .outsideWindow
                }
            }
            windows.append(Window(
                exampleIndex: exampleIndex, windowIndex: spanIndex, inputIds: input.inputIds, tokenTypeIds: input.tokenTypeIds,
                attentionMask: input.attentionMask, length: input.length, contextStart: contextStart,
                contextTokenStart: span.lowerBound, contextOffsets: Array(context.offsets[span]),
                contextIsMaxContext: DocStride.maxContextFlags(spans: spans, spanIndex: spanIndex),
                startPosition: startPosition, endPosition: endPosition, label: label))
        }
        if answerTokens != nil && !answerFound { report.answersLostToTruncation += 1 }
        report.windows += windows.count
        return windows
    }
}
