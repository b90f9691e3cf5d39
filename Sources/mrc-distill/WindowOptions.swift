import ArgumentParser
import MRC

/// How questions and contexts are cut into windows, and how spans are decoded from them.
struct WindowOptions: ParsableArguments {
    @Option(name: .customLong("max-seq-len"), help: "Tokens per window, [CLS] and [SEP]s included.")
    var maxSeqLen = 384

    @Option(name: .customLong("doc-stride"), help: "Tokens a window's start advances by (BERT's doc_stride).")
    var docStride = 128

    @Option(name: .customLong("max-query-len"), help: "Question tokens kept.")
    var maxQueryLen = 64

    @Option(name: .customLong("n-best"), help: "Candidates kept per question (and top starts/ends tried per window).")
    var nBest = 20

    @Option(name: .customLong("max-answer-length"), help: "Longest answer, in tokens.")
    var maxAnswerLength = 30

    @Option(name: .customLong("null-score-threshold"), help: "SQuAD 2.0 only: answer \"\" when null score − best span score exceeds this.")
    var nullScoreThreshold: Double?

    var windowSettings: WindowSettings {
        WindowSettings(maxSeqLen: maxSeqLen, docStride: docStride, maxQueryLen: maxQueryLen)
    }

    var decoderSettings: SpanDecoderSettings {
        SpanDecoderSettings(nBest: nBest, maxAnswerLength: maxAnswerLength, nullScoreThreshold: nullScoreThreshold)
    }

    func validateWindows() throws {
        do { try windowSettings.validate() } catch { throw ValidationError(String(describing: error)) }
        guard nBest > 0 else { throw ValidationError("--n-best must be positive") }
        guard maxAnswerLength > 0 else { throw ValidationError("--max-answer-length must be positive") }
    }
}
