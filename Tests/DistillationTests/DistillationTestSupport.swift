import Foundation
import Distillation
import Training

/// Shared helpers of the distillation tests.
enum DistillationTestSupport {
    /// A run's metrics.jsonl as one line per step with every number's bits (task, loss, learning rate,
    /// gradient norm, each loss term): two runs are the same run when these are equal.
    static func trajectory(_ url: URL) throws -> [String] {
        try MetricsLog.read(url).map {
            "\($0.step) \($0.task ?? "-") \($0.loss.bitPattern) \($0.learningRate.bitPattern) \($0.gradientNorm.bitPattern) "
                + ($0.terms ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.bitPattern)" }.joined(separator: ",")
        }
    }

    /// A fresh empty directory under the system's temporary directory.
    static func temporaryDirectory(_ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("mrc-distill-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

import MRC
import Text
import TestSupport

extension DistillationTestSupport {
    /// The installed MiniLM's uncased WordPiece tokenizer (loaded once).
    nonisolated(unsafe) static var cachedTokenizer: WordPieceTokenizer?

    static func tokenizer() throws -> WordPieceTokenizer {
        if let cachedTokenizer { return cachedTokenizer }
        let tokenizer = try WordPieceTokenizer(vocabFile: TestPaths.miniLMDirectory.appendingPathComponent("vocab.txt"),
                                               lowercase: true)
        cachedTokenizer = tokenizer
        return tokenizer
    }

    /// One example of `context`; the gold answer, when given, is its first occurrence.
    static func example(id: String, context: String, question: String = "What is it?", answer: String? = nil) -> MRCExample {
        let text = ScalarText(context)
        var spans: [AnswerSpan] = []
        if let answer, let location = AnswerLocator.locate(answer, in: text) {
            spans = [AnswerSpan(text: answer, characters: location.spans[0])]
        }
        return MRCExample(id: id, question: question, context: text, answerTexts: answer.map { [$0] } ?? [],
                          answerSpans: spans, dataset: "test")
    }

    /// The windows of `examples` with the real tokenizer and the given settings.
    static func windows(_ examples: [MRCExample], maxSeqLen: Int = 64, docStride: Int = 32, maxQueryLen: Int = 16) throws -> [Window] {
        let builder = try WindowBuilder(tokenizer: tokenizer(),
                                        settings: WindowSettings(maxSeqLen: maxSeqLen, docStride: docStride, maxQueryLen: maxQueryLen))
        return builder.windows(for: examples).windows
    }

    /// A black-box teacher from a JSON text.
    static func teacher(_ json: String, name: String = "test") throws -> BlackBoxTeacher {
        BlackBoxTeacher(name: name, predictions: try BlackBoxPredictions.parse(Data(json.utf8), file: "\(name).json"))
    }

    /// Position in `window.inputIds` of the context token that starts at character `offset`.
    static func position(ofCharacter offset: Int, in window: Window) -> Int? {
        window.contextOffsets.firstIndex { $0.lowerBound == offset }.map { window.contextStart + $0 }
    }

    // MARK: the tolerance of a stored soft label

    /// The error `teach`'s float32 arithmetic may add to a float64 log-probability computed from the same teacher
    /// logits (one array per teacher): two log-softmaxes (each teacher's, then the ensemble's renormalisation; each
    /// subtracts a maximum and a log-sum-exp, a few roundings of numbers no larger than max|z| + log L) and the
    /// float32 rounding of each logit read and of the mean's logarithm; 16 units of float32 rounding (2⁻²⁴) of that
    /// size bound them with room. The padding logit −10000 is left out of the size.
    static func float32Bound(_ logits: [[Float]]) -> Double {
        let largest = logits.joined().filter { $0 != -10_000 }.map { abs(Double($0)) }.max() ?? 0
        return 16 * 0x1p-24 * (2 * largest + log(Double(logits[0].count)) + 1)
    }

    /// The store's fp16 rounds to nearest: half an fp16 unit in the last place at the value (taken at the value's
    /// magnitude plus `bound`, so that a value just below a power of two is not held to the finer spacing), plus
    /// `bound`, the other errors. The floor −10000 is exact in fp16 and on both sides.
    static func storeTolerance(_ value: Double, bound: Double) -> Double {
        let magnitude = Float16(min(abs(value) + bound, 65_000))
        return Double(magnitude.ulp) / 2 + bound
    }
}
