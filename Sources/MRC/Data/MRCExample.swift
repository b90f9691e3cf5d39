/// One question about one context, as read from a SQuAD or MRQA file.
///
/// Character positions are Unicode-scalar indices into `context` (Python `str` indices), because
/// SQuAD's `answer_start`, MRQA's `char_spans` and Hugging Face offsets all count that way.
public struct MRCExample: Sendable {
    /// SQuAD question id (MRQA's `id`); empty when the record has none.
    public var id: String
    /// MRQA's question id (`qid`); nil for SQuAD files.
    public var qid: String?
    public var question: String
    /// The question as it is tokenised: leading whitespace dropped, as Hugging Face's run_qa does (a byte-level
    /// BPE would otherwise make a token of it; WordPiece drops it anyway).
    public var questionToTokenise: String { String(question.drop { $0.isWhitespace }) }
    /// The context as Unicode scalars; `ScalarText` cuts answers out of it by scalar offsets.
    public var context: ScalarText
    /// Gold answer texts as the file gives them, for evaluation (SQuAD `answers[].text`, MRQA `answers`).
    public var answerTexts: [String]
    /// Validated answer spans in `context` (half-open scalar ranges), in file order; training labels
    /// use the first. Spans that failed validation are in the reader's `ReadReport`, not here.
    public var answerSpans: [AnswerSpan]
    /// SQuAD 2.0 `is_impossible` (MRQA files may carry it too).
    public var isImpossible: Bool
    /// Whether "no answer" is a possible answer to this question: it comes from SQuAD 2.0 data (set by the
    /// reader for every question of such a file, answerable or not; says nothing about this question's gold).
    public var allowsNoAnswer = false
    /// Dataset name: the MRQA header's `dataset`, else the file name without extensions.
    public var dataset: String

    public init(id: String, qid: String? = nil, question: String, context: ScalarText, answerTexts: [String],
                answerSpans: [AnswerSpan], isImpossible: Bool = false, dataset: String) {
        self.id = id
        self.qid = qid
        self.question = question
        self.context = context
        self.answerTexts = answerTexts
        self.answerSpans = answerSpans
        self.isImpossible = isImpossible
        self.dataset = dataset
    }

    /// The key predictions use for this question: MRQA's `qid` when present, else the SQuAD id.
    public var predictionKey: String { qid ?? id }
}

/// An answer located in the context: `characters` is a half-open range of scalar indices.
public struct AnswerSpan: Sendable, Equatable {
    public var text: String
    public var characters: Range<Int>

    public init(text: String, characters: Range<Int>) {
        self.text = text
        self.characters = characters
    }
}

/// A string with O(1) access by Unicode-scalar index (Python `str` semantics). Contexts are shared
/// by the questions of a paragraph; the arrays are copy-on-write, so those copies share storage.
public struct ScalarText: Sendable, Equatable {
    public let string: String
    public let scalars: [Unicode.Scalar]

    public init(_ string: String) {
        self.string = string
        self.scalars = Array(string.unicodeScalars)
    }

    public var count: Int { scalars.count }

    /// The text of scalars `range` (clamped to the text), as Python's `s[start:end]`.
    public func slice(_ range: Range<Int>) -> String {
        let lower = max(0, min(range.lowerBound, scalars.count))
        let upper = max(lower, min(range.upperBound, scalars.count))
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars[lower..<upper])
        return String(view)
    }

    public static func == (lhs: ScalarText, rhs: ScalarText) -> Bool { lhs.scalars == rhs.scalars }
}
