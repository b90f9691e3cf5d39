import ArgumentParser
import Foundation
import Text

/// `mrc-distill tokenize`: BERT WordPiece tokenisation of command-line texts, without special
/// tokens, as Hugging Face `BertTokenizerFast` would give it.
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Tokenise texts with a BERT WordPiece vocabulary (ids, tokens, character offsets)."
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
    var vocab: String

    @Flag(exclusivity: .exclusive)
    var casing: Casing = .uncased

    @Flag(name: .long, help: "One JSON object per text per line: {\"ids\", \"tokens\", \"offsets\"}; offsets in Unicode scalars.")
    var json = false

    @Argument(help: "Texts to tokenise, each on its own.")
    var texts: [String]

    func run() throws {
        let tokenizer = try WordPieceTokenizer(vocabFile: URL(fileURLWithPath: vocab), lowercase: casing == .uncased)
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
