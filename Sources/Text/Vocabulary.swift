import Foundation

/// A WordPiece vocabulary: `vocab.txt` with one token per line, the line index being the id.
public struct Vocabulary: Sendable {
    /// Tokens by id.
    public let tokens: [String]
    private let table: TokenTable
    /// Length in Unicode scalars of the longest token, `##` included; bounds the WordPiece search.
    public let longestTokenScalars: Int

    public let unkId: Int32
    public let clsId: Int32
    public let sepId: Int32
    public let padId: Int32
    public let maskId: Int32

    public static let unkToken = "[UNK]"
    public static let clsToken = "[CLS]"
    public static let sepToken = "[SEP]"
    public static let padToken = "[PAD]"
    public static let maskToken = "[MASK]"

    /// Builds a vocabulary from tokens in id order. `source` names where they came from in errors.
    public init(tokens: [String], source: String = "<memory>") throws {
        guard !tokens.isEmpty else { throw TextError.emptyVocabulary(path: source) }
        var ids = [String: Int32](minimumCapacity: tokens.count)
        var longest = 0
        for (index, token) in tokens.enumerated() {
            if let first = ids[token] {
                throw TextError.duplicateToken(path: source, token: token, firstLine: Int(first) + 1, line: index + 1)
            }
            ids[token] = Int32(index)
            longest = max(longest, token.unicodeScalars.count)
        }
        func special(_ token: String) throws -> Int32 {
            guard let id = ids[token] else { throw TextError.missingSpecialToken(path: source, token: token) }
            return id
        }
        self.tokens = tokens
        self.table = TokenTable(tokens: tokens)
        self.longestTokenScalars = longest
        self.unkId = try special(Self.unkToken)
        self.clsId = try special(Self.clsToken)
        self.sepId = try special(Self.sepToken)
        self.padId = try special(Self.padToken)
        self.maskId = try special(Self.maskToken)
    }

    /// Reads `vocab.txt`: one token per line (LF or CRLF), line `i` (from 0) is id `i`. Trailing
    /// whitespace is not part of a token, as in `tokenizers`; unlike it, a token that appears twice
    /// is an error rather than silently taking the later id.
    public init(contentsOf url: URL) throws {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw TextError.unreadableVocabulary(path: url.path, reason: error.localizedDescription)
        }
        guard String(data: data, encoding: .utf8) != nil else {
            throw TextError.vocabularyNotUTF8(path: url.path)
        }
        // Split the bytes, not Characters ("\r\n" is one Character). Like `tokenizers`' reader,
        // drop trailing whitespace (the "\r" of CRLF included) from each token.
        var lines: [String] = []
        for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            var token = String(decoding: line, as: UTF8.self)
            while let last = token.unicodeScalars.last, BertCharacterClasses.isWhitespace(last) {
                token.unicodeScalars.removeLast()
            }
            lines.append(token)
        }
        // The newline after the last token does not start another token.
        if lines.last == "" { lines.removeLast() }
        try self.init(tokens: lines, source: url.path)
    }

    /// Number of tokens.
    public var count: Int { tokens.count }

    /// The id of `token`, or nil when it is not in the vocabulary.
    public func id(for token: String) -> Int32? {
        var token = token
        return token.withUTF8 { table.id(of: $0, continuation: false) }
    }

    /// The id of the token spelled by the UTF-8 bytes `piece`, with "##" before it when
    /// `continuation`.
    @inline(__always)
    func id(ofPiece piece: UnsafeBufferPointer<UInt8>, continuation: Bool) -> Int32? {
        table.id(of: piece, continuation: continuation)
    }

    /// The token with id `id`, or nil when `id` is out of range.
    public func token(for id: Int32) -> String? {
        id >= 0 && Int(id) < tokens.count ? tokens[Int(id)] : nil
    }
}
