import ArgumentParser
import Checkpoint
import Foundation
import Text

/// `mrc-distill tokenize`: tokenisation of command-line texts without special tokens, as Hugging Face's fast
/// tokenizers give it: BERT WordPiece from a vocab.txt, or a model directory's own tokenizer (WordPiece, or
/// RoBERTa's byte-level BPE from vocab.json + merges.txt and tokenizer_config.json).
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Tokenise texts with a WordPiece vocab.txt or a model directory's tokenizer (ids, tokens, character offsets)."
    )

    enum Casing: String, EnumerableFlag {
        case uncased, cased

        static func help(for value: Casing) -> ArgumentHelp? {
            switch value {
            case .uncased: return "Lowercase and strip accents first (default; BERT uncased models)."
            case .cased: return "Keep case and accents (BERT cased models)."
            }
        }
    }

    @Option(name: .long, help: ArgumentHelp("vocab.txt: one token per line, line number = id.", valueName: "file"))
    var vocab: String?

    @Option(name: .long, help: ArgumentHelp("A model directory: its own tokenizer and settings (instead of --vocab).", valueName: "dir"))
    var model: String?

    @Flag(exclusivity: .exclusive)
    var casing: Casing = .uncased

    @Flag(name: .long, help: "One JSON object per text per line: {\"ids\", \"tokens\", \"offsets\"}; offsets in Unicode scalars.")
    var json = false

    @Argument(help: "Texts to tokenise, each on its own.")
    var texts: [String]

    func validate() throws {
        guard (vocab == nil) != (model == nil) else { throw ValidationError("give --vocab FILE or --model DIR (one of them)") }
    }

    func run() throws {
        let tokenizer = try commandLineTokenizer(vocab: vocab, model: model, lowercase: casing == .uncased)
        var output = ""
        for (number, text) in texts.enumerated() {
            let encoding = tokenizer.encode(text)
            if json {
                output += encoding.jsonLine + "\n"
                continue
            }
            // One token per line: offsets, id, token, and the text it covers.
            if number > 0 { output += "\n" }
            let scalars = Array(text.unicodeScalars)
            for index in 0 ..< encoding.count {
                let range = encoding.offsets[index]
                var covered = String.UnicodeScalarView()
                covered.append(contentsOf: scalars[range])
                output += "\(range.lowerBound)-\(range.upperBound)\t\(encoding.ids[index])\t\(encoding.tokens[index])\t\(String(covered))\n"
            }
        }
        FileHandle.standardOutput.write(Data(output.utf8))
    }
}

/// The tokenizer of `--model DIR` (its own files and settings), else of the WordPiece `--vocab FILE`.
func commandLineTokenizer(vocab: String?, model: String?, lowercase: Bool) throws -> any Tokenizer {
    if let model {
        guard let files = try TokenizerFiles.load(URL(fileURLWithPath: model)) else {
            throw ValidationError("--model \(model) has no tokenizer files (vocab.txt, or vocab.json and merges.txt)")
        }
        return try files.makeTokenizer()
    }
    guard let vocab else { throw ValidationError("give --vocab FILE or --model DIR") }
    return try WordPieceTokenizer(vocabFile: URL(fileURLWithPath: vocab), lowercase: lowercase)
}
