import ArgumentParser
import Foundation
import MRC
import Text

/// `mrc-distill features`: shows the windows and labels a data file turns into.
struct FeaturesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "features",
        abstract: "Cut a data file into model windows and show them: tokens, context, max context, answer labels.",
        discussion: """
        Windows are `[CLS] question [SEP] context [SEP]`, the question cut to --max-query-len tokens, the context \
        cut into windows whose start advances by --doc-stride tokens (original BERT semantics). In the token \
        view, context tokens that do not have their maximal context in the window are marked with `°`, and \
        the gold answer is bracketed ⟦ ⟧. The summary covers the whole file.
        """
    )

    @Option(name: .long, help: "A SQuAD .json or MRQA .jsonl[.gz] file.")
    var data: String

    @Option(name: .long, help: "The WordPiece vocab.txt (e.g. the MiniLM one: $(bash scripts/minilm-dir)/vocab.txt).")
    var vocab: String?

    @Option(name: .long, help: "A model directory: its own tokenizer and pair template (instead of --vocab).")
    var model: String?

    @Flag(name: .long, help: "Cased vocabulary (no lowercasing, no accent stripping).")
    var cased = false

    @Option(name: .long, help: "Tokens per window (at most 512).")
    var maxSeqLen = 384

    @Option(name: .long, help: "Tokens the window start advances by.")
    var docStride = 128

    @Option(name: .long, help: "Question tokens kept.")
    var maxQueryLen = 64

    @Option(name: .long, help: "Questions to show (all are featurised for the summary).")
    var limit = 3

    @Flag(name: .long, help: "Print one JSON object ({\"windows\": [...], \"summary\": {...}}).")
    var json = false

    private var settings: WindowSettings {
        WindowSettings(maxSeqLen: maxSeqLen, docStride: docStride, maxQueryLen: maxQueryLen)
    }

    func validate() throws {
        do { try settings.validate() } catch { throw ValidationError("\(error)") }
        guard (vocab == nil) != (model == nil) else { throw ValidationError("give --vocab FILE or --model DIR (one of them)") }
    }

    func run() throws {
        let tokenizer = try commandLineTokenizer(vocab: vocab, model: model, lowercase: !cased)
        let dataset = try MRCReader.read(URL(fileURLWithPath: data))
        let builder = try WindowBuilder(tokenizer: tokenizer, settings: settings)
        let clock = ContinuousClock()
        let start = clock.now
        let (windows, report) = builder.windows(for: dataset.examples)
        let seconds = Double((clock.now - start).components.attoseconds) / 1e18 + Double((clock.now - start).components.seconds)
        let shown = windows.filter { $0.exampleIndex < limit }
        if json {
            printJSON(shown, dataset: dataset, report: report, tokenizer: tokenizer, seconds: seconds)
        } else {
            printText(shown, dataset: dataset, report: report, tokenizer: tokenizer, seconds: seconds)
        }
    }

    private func answerText(_ window: Window, _ example: MRCExample) -> String? {
        guard window.label == .inWindow, let first = window.characterRange(ofToken: window.startPosition),
              let last = window.characterRange(ofToken: window.endPosition) else { return nil }
        return example.context.slice(first.lowerBound..<last.upperBound)
    }

    private func printText(_ windows: [Window], dataset: MRCDataset, report: FeatureReport, tokenizer: any Tokenizer,
                           seconds: Double) {
        var lastExample = -1
        for window in windows {
            let example = dataset.examples[window.exampleIndex]
            if window.exampleIndex != lastExample {
                lastExample = window.exampleIndex
                print("\n== \(example.predictionKey): \(example.question)")
                print("   gold: \(example.isImpossible ? "(no answer)" : example.answerSpans.first.map { "\"\($0.text)\" at \($0.characters)" } ?? "(none usable)")")
            }
            var pieces: [String] = []
            for position in 0..<window.length {
                var token = tokenizer.vocabulary.token(for: window.inputIds[position]) ?? "?"
                if window.isContext(position) && !window.isMaxContext(position) { token += "°" }
                if window.label == .inWindow && position == window.startPosition { token = "⟦" + token }
                if window.label == .inWindow && position == window.endPosition { token += "⟧" }
                pieces.append(token)
            }
            print("-- window \(window.windowIndex): \(window.length) tokens, context tokens \(window.contextTokenStart)"
                + "..<\(window.contextTokenStart + window.contextCount), label \(window.label.rawValue)"
                + " start \(window.startPosition) end \(window.endPosition)"
                + (answerText(window, example).map { " → \"\($0)\"" } ?? ""))
            print("   " + pieces.joined(separator: " "))
        }
        print("\n\(dataset.report.summary)")
        print(report.summary + String(format: " (%.2f s)", seconds))
    }

    private func printJSON(_ windows: [Window], dataset: MRCDataset, report: FeatureReport, tokenizer: any Tokenizer,
                           seconds: Double) {
        let entries: [JSONText] = windows.map { window in
            let example = dataset.examples[window.exampleIndex]
            let real = 0..<window.length
            return .object([
                ("example", .string(example.predictionKey)), ("window", .integer(window.windowIndex)),
                ("tokens", .array(real.map { .string(tokenizer.vocabulary.token(for: window.inputIds[$0]) ?? "?") })),
                ("input_ids", .array(real.map { .integer(Int(window.inputIds[$0])) })),
                ("token_type_ids", .array(real.map { .integer(Int(window.tokenTypeIds[$0])) })),
                ("context_start", .integer(window.contextStart)),
                ("context_offsets", .array(window.contextOffsets.map { .array([.integer($0.lowerBound), .integer($0.upperBound)]) })),
                ("max_context", .array(window.contextIsMaxContext.map { .integer($0 ? 1 : 0) })),
                ("start_position", .integer(window.startPosition)), ("end_position", .integer(window.endPosition)),
                ("label", .string(window.label.rawValue)),
                ("answer_text", answerText(window, example).map { JSONText.string($0) } ?? .string("")),
            ])
        }
        let summary: JSONText = .object([
            ("examples", .integer(report.examples)), ("windows", .integer(report.windows)),
            ("truncated_questions", .integer(report.truncatedQuestions)),
            ("answers_lost_to_truncation", .integer(report.answersLostToTruncation)),
            ("unlabelled_examples", .integer(report.unlabelledExamples)), ("empty_contexts", .integer(report.emptyContexts)),
            ("skipped_questions", .integer(dataset.report.skippedQuestions)),
            ("skipped_answer_spans", .integer(dataset.report.skippedAnswerSpans)), ("seconds", .number(seconds)),
        ])
        print(JSONText.object([("windows", .array(entries)), ("summary", summary)]).rendered)
    }
}
