import Checkpoint
import Foundation
import MRC
import Text
import Training

/// Unlabelled text for the MLM auxiliary task, cut into `[CLS] tokens [SEP]` sequences of at most
/// `maxSeqLen` tokens (consecutive, non-overlapping pieces of each text).
///
/// Sources: the contexts of SQuAD `.json` and MRQA `.jsonl[.gz]` files (each distinct context once),
/// `.txt` files (each non-empty line a text), and `.jsonl` files of objects with a `"text"` (or
/// `"context"`) string field. A `.jsonl` file whose first line is an MRQA header is read as MRQA.
public struct MLMCorpus: Sendable {
    /// Token ids of each sequence, `[CLS]` and `[SEP]` included, no padding.
    public var sequences: [[Int32]]
    /// One line per source (what was read, what was skipped).
    public var summaries: [String]

    public init(sequences: [[Int32]] = [], summaries: [String] = []) {
        self.sequences = sequences; self.summaries = summaries
    }

    /// The corpus of `texts` (each distinct text once, in order).
    public static func fromTexts(_ texts: [String], tokenizer: any Tokenizer, maxSeqLen: Int) -> MLMCorpus {
        var corpus = MLMCorpus()
        var seen = Set<String>()
        let piece = maxSeqLen - 2
        let vocabulary = tokenizer.vocabulary
        for text in texts where seen.insert(text).inserted {
            let ids = tokenizer.encode(text).ids
            var start = 0
            while start < ids.count {
                let end = min(ids.count, start + piece)
                corpus.sequences.append([vocabulary.clsId] + ids[start..<end] + [vocabulary.sepId])
                start = end
            }
        }
        return corpus
    }

    /// Reads every file (see the type's description) into one corpus.
    public static func load(files: [URL], tokenizer: any Tokenizer, maxSeqLen: Int) throws -> MLMCorpus {
        var corpus = MLMCorpus()
        for file in files {
            let texts = try readTexts(file)
            let part = fromTexts(texts.texts, tokenizer: tokenizer, maxSeqLen: maxSeqLen)
            corpus.sequences += part.sequences
            corpus.summaries.append("\(file.lastPathComponent): \(texts.texts.count) texts → \(part.sequences.count) MLM sequences"
                                    + (texts.skipped > 0 ? " (\(texts.skipped) lines without text skipped)" : ""))
        }
        guard !corpus.sequences.isEmpty else {
            throw TrainingError.invalidArgument("--mlm-text \(files.map(\.path).joined(separator: " ")): no text")
        }
        return corpus
    }

    /// The texts of one file, and how many records held none.
    static func readTexts(_ url: URL) throws -> (texts: [String], skipped: Int) {
        let name = url.lastPathComponent
        if name.hasSuffix(".json") || name.hasSuffix(".json.gz") || name.hasSuffix(".jsonl.gz") {
            return (try MRCReader.read(url).examples.map(\.context.string), 0)
        }
        guard name.hasSuffix(".txt") || name.hasSuffix(".jsonl") else {
            throw DataReadError(file: url.path, message: "unknown text format: expected .txt, .jsonl, or a SQuAD/MRQA file")
        }
        var lines = try DataFile.lines(of: url)
        var texts: [String] = [], skipped = 0
        while let (number, bytes) = try lines.next() {
            guard let line = String(validating: bytes, as: UTF8.self) else {
                throw DataReadError(file: url.path, location: "line \(number)", message: "is not UTF-8 text")
            }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if name.hasSuffix(".txt") {
                if !trimmed.isEmpty { texts.append(trimmed) }
                continue
            }
            if trimmed.isEmpty { continue }
            // An MRQA file (its header on the first line) gives its contexts.
            if number == 1, line.contains("\"header\"") { return (try MRCReader.read(url).examples.map(\.context.string), 0) }
            let object: Any
            do {
                object = try FoundationJSON.parse(bytes)
            } catch {
                throw DataReadError(file: url.path, location: "line \(number)",
                                    message: "is not JSON at \(JSONSyntax.explain(bytes, refusal: error, line: number))")
            }
            if let record = object as? [String: Any], let text = (record["text"] ?? record["context"]) as? String,
               !text.isEmpty {
                texts.append(text)
            } else {
                skipped += 1
            }
        }
        return (texts, skipped)
    }
}
