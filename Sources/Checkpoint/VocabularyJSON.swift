import Foundation

/// `vocab.json`, the vocabulary of a byte-level BPE (RoBERTa, GPT-2): one JSON object from token to id.
///
/// Hugging Face reads it into a hash map (`tokenizers`' `BPE::read_file`, `json.load` in `transformers`),
/// so a token written twice silently keeps its last id and ids may have gaps. Here the ids must be
/// exactly `0..<n` and each token must appear once; every error names the file and the line of the
/// offending entry. Writing gives what `tokenizers`' `save_model` writes: `{"tok":0,...}` in id order,
/// compact, with no final line end.
extension Vocabulary {
    /// Reads `vocab.json`; `specials` spell the special tokens, which must be present.
    public init(jsonContentsOf url: URL, specials: SpecialTokens = .roberta) throws {
        let data = try CheckpointError.contents(of: url)
        try self.init(jsonData: data, source: url.path, specials: specials)
    }

    /// Reads the bytes of a `vocab.json`; `source` names them in errors.
    public init(jsonData data: Data, source: String, specials: SpecialTokens = .roberta) throws {
        var scanner = VocabularyJSONScanner(bytes: [UInt8](data), source: source)
        let entries = try scanner.entries()
        var lineOfToken: [String: Int] = [:]
        var tokens = [String?](repeating: nil, count: entries.count)
        var lineOfId = [Int](repeating: 0, count: entries.count)
        for entry in entries {
            func fail(_ reason: String) -> CheckpointError {
                .invalidVocabulary(file: source, line: entry.line, reason: reason)
            }
            if let first = lineOfToken[entry.token] {
                throw fail("token \(jsonStringLiteral(entry.token)) repeats line \(first) (ids would be ambiguous)")
            }
            lineOfToken[entry.token] = entry.line
            if entry.token.unicodeScalars.contains(where: { $0 == "\n" || $0 == "\r" }) {
                throw fail("token \(jsonStringLiteral(entry.token)) contains a line break")
            }
            guard entry.id < entries.count else {
                let present = Set(entries.map(\.id))
                let missing = (0 ..< entries.count).first { !present.contains($0) }
                throw fail("id \(entry.id) of \(jsonStringLiteral(entry.token)) is out of range: \(entries.count) tokens "
                    + "need the ids 0..<\(entries.count)" + (missing.map { " (id \($0) is missing)" } ?? ""))
            }
            if tokens[entry.id] != nil {
                throw fail("id \(entry.id) of \(jsonStringLiteral(entry.token)) repeats line \(lineOfId[entry.id])")
            }
            tokens[entry.id] = entry.token
            lineOfId[entry.id] = entry.line
        }
        try self.init(tokens: tokens.map { $0! }, specials: specials, source: source)
    }

    /// `vocab.json` as `tokenizers`' `save_model` writes it: compact, in id order, no final line end.
    public var jsonData: Data {
        var text = "{"
        for (id, token) in tokens.enumerated() {
            if id > 0 { text += "," }
            text += jsonStringLiteral(token) + ":" + String(id)
        }
        return Data((text + "}").utf8)
    }

    /// Writes `vocab.json`; `init(jsonContentsOf:specials:)` reads it back unchanged.
    public func writeJSON(to url: URL) throws {
        do {
            try jsonData.write(to: url, options: .atomic)
        } catch {
            throw CheckpointError.unwritable(file: url.path, reason: error.localizedDescription)
        }
    }
}

/// A reader of one flat JSON object of string keys and non-negative integer values that keeps every
/// entry (duplicates included) with its line. Where the text is not JSON at all, `JSONSyntax` says where.
struct VocabularyJSONScanner {
    struct Entry {
        var token: String
        var id: Int
        var line: Int
    }

    let bytes: [UInt8]
    let source: String
    private var index = 0
    private var line = 1

    init(bytes: [UInt8], source: String) {
        self.bytes = bytes
        self.source = source
    }

    /// Every entry in file order.
    mutating func entries() throws -> [Entry] {
        var entries: [Entry] = []
        skipSpace()
        try expect(UInt8(ascii: "{"), "a vocab.json must be one object from token to id")
        skipSpace()
        if peek == UInt8(ascii: "}") {
            index += 1
        } else {
            while true {
                skipSpace()
                let entryLine = line
                guard peek == UInt8(ascii: "\"") else { throw problem("expected a token (a JSON string)") }
                let token = try string()
                skipSpace()
                try expect(UInt8(ascii: ":"), "expected ':' after a token")
                skipSpace()
                let id = try integer(of: token)
                entries.append(Entry(token: token, id: id, line: entryLine))
                skipSpace()
                if peek == UInt8(ascii: ",") { index += 1; continue }
                try expect(UInt8(ascii: "}"), "expected ',' or '}' after an id")
                break
            }
        }
        skipSpace()
        if index < bytes.count { throw problem("text after the object") }
        return entries
    }

    private var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func skipSpace() {
        while let byte = peek, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
            if byte == 0x0A { line += 1 }
            index += 1
        }
    }

    private mutating func expect(_ byte: UInt8, _ reason: String) throws {
        guard peek == byte else { throw problem(reason) }
        index += 1
    }

    /// A syntax error where JSONSyntax finds one (the text is not JSON), else `reason` at this line (it is
    /// JSON, but not a vocabulary).
    private func problem(_ reason: String) -> CheckpointError {
        if let syntax = JSONSyntax.firstError(in: Data(bytes)) {
            return .invalidVocabulary(file: source, line: syntax.line, reason: "not valid JSON: column \(syntax.column): \(syntax.message)")
        }
        return .invalidVocabulary(file: source, line: line, reason: reason)
    }

    /// A JSON string starting at the opening quote, escapes decoded.
    private mutating func string() throws -> String {
        index += 1
        var decoded: [UInt8] = []
        while true {
            guard let byte = peek, byte >= 0x20 else { throw problem("unterminated token string") }
            index += 1
            if byte == UInt8(ascii: "\"") { break }
            guard byte == UInt8(ascii: "\\") else { decoded.append(byte); continue }
            guard let escape = peek else { throw problem("unterminated escape") }
            index += 1
            switch escape {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded.append(escape)
            case UInt8(ascii: "b"): decoded.append(0x08)
            case UInt8(ascii: "f"): decoded.append(0x0C)
            case UInt8(ascii: "n"): decoded.append(0x0A)
            case UInt8(ascii: "r"): decoded.append(0x0D)
            case UInt8(ascii: "t"): decoded.append(0x09)
            case UInt8(ascii: "u"):
                var value = try hex4()
                if (0xD800 ..< 0xDC00).contains(value), peek == UInt8(ascii: "\\"),
                   index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "u") {
                    index += 2
                    let low = try hex4()
                    guard (0xDC00 ..< 0xE000).contains(low) else { throw problem("unpaired surrogate escape") }
                    value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let scalar = Unicode.Scalar(value) else { throw problem("unpaired surrogate escape") }
                decoded.append(contentsOf: String(Character(scalar)).utf8)
            default:
                throw problem("unknown escape")
            }
        }
        guard let text = String(validating: decoded, as: UTF8.self) else { throw problem("token is not valid UTF-8") }
        return text
    }

    private mutating func hex4() throws -> UInt32 {
        guard index + 4 <= bytes.count, let value = UInt32(String(decoding: bytes[index ..< index + 4], as: UTF8.self), radix: 16)
        else { throw problem("bad \\u escape") }
        index += 4
        return value
    }

    /// A non-negative integer id (digits only: no sign, fraction or exponent).
    private mutating func integer(of token: String) throws -> Int {
        let start = index
        while let byte = peek, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") { index += 1 }
        let digits = bytes[start ..< index]
        let next = peek
        guard !digits.isEmpty, next != UInt8(ascii: "."), next != UInt8(ascii: "e"), next != UInt8(ascii: "E"),
              digits.count == 1 || digits.first != UInt8(ascii: "0"),
              let id = Int(String(decoding: digits, as: UTF8.self)), id <= Int(Int32.max) else {
            throw problem("the id of \(jsonStringLiteral(token)) is not a non-negative integer")
        }
        return id
    }
}
