import Foundation

/// A WordPiece vocab.txt: one token per line, the line number (from 0) is the token id.
public struct Vocabulary: Equatable, Sendable {
    /// Tokens by id.
    public let tokens: [String]
    /// Ids by token.
    public let ids: [String: Int32]

    /// Builds a vocabulary from tokens in id order; duplicates are an error naming `source` and the line.
    public init(tokens: [String], source: String = "<vocabulary>") throws {
        var ids: [String: Int32] = [:]
        ids.reserveCapacity(tokens.count)
        for (index, token) in tokens.enumerated() {
            if let first = ids[token] {
                throw CheckpointError.invalidVocabulary(file: source, line: index + 1,
                                                        reason: "token '\(token)' repeats line \(first + 1)")
            }
            if token.contains("\n") || token.contains("\r") {
                throw CheckpointError.invalidVocabulary(file: source, line: index + 1, reason: "token contains a line break")
            }
            ids[token] = Int32(index)
        }
        self.tokens = tokens
        self.ids = ids
    }

    /// Reads vocab.txt (UTF-8; `\n` or `\r\n` line ends; a final line end is optional).
    public init(contentsOf url: URL) throws {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw CheckpointError.unreadable(file: url.path, reason: error.localizedDescription)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw CheckpointError.invalidVocabulary(file: url.path, line: 1, reason: "not UTF-8")
        }
        // Split on scalars: as Characters, "\r\n" is one grapheme and would not split on "\n".
        var lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            String(line.last == "\r" ? line.dropLast() : line[...])
        }
        if lines.last == "" { lines.removeLast() }
        guard !lines.isEmpty else { throw CheckpointError.invalidVocabulary(file: url.path, line: 1, reason: "empty vocabulary") }
        try self.init(tokens: lines, source: url.path)
    }

    public var count: Int { tokens.count }

    /// Writes one token per line, each ending with `\n`.
    public func write(to url: URL) throws {
        do {
            try Data(tokens.map { $0 + "\n" }.joined().utf8).write(to: url, options: .atomic)
        } catch {
            throw CheckpointError.unwritable(file: url.path, reason: error.localizedDescription)
        }
    }
}
