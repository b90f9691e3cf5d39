import Foundation

/// One merge rule of a BPE: two adjacent tokens that become the token spelt by both.
public struct BPEMerge: Sendable, Hashable {
    public var left: String
    public var right: String

    public init(_ left: String, _ right: String) {
        self.left = left
        self.right = right
    }
}

/// `merges.txt` of a byte-level BPE (RoBERTa, GPT-2): merge rules in rank order, the first the most urgent.
///
/// The format is the one `tokenizers` reads (`BPE::read_file`): lines split at `\n` (a `\r` before it is
/// dropped, as Rust's `lines()` does), lines starting with `#version` skipped, every other line two tokens
/// separated by one space. `transformers`' slow reader instead skips the first line whatever it holds
/// and ignores whatever follows the last line end; files written here (and by `save_model`) start with
/// `#version: 0.2` and end each line with `\n`, so both read them alike. Where `tokenizers` gives a merge
/// written twice the later rank (and `transformers` the earlier), this reader rejects the file, naming both lines.
public struct BPEMerges: Sendable, Equatable {
    /// The rules in rank order.
    public let merges: [BPEMerge]
    /// The 1-based line each rule came from, for errors about it.
    public let lines: [Int]
    /// Names the file in errors.
    public let source: String

    /// Rules given in rank order; their lines are counted as in a written file (after `#version`).
    public init(_ merges: [BPEMerge], source: String = "<merges>") throws {
        for (index, merge) in merges.enumerated() {
            for part in [merge.left, merge.right] where part.isEmpty
                || part.unicodeScalars.contains(where: { $0 == " " || $0 == "\n" || $0 == "\r" }) {
                throw CheckpointError.invalidVocabulary(
                    file: source, line: index + 2,
                    reason: "merge token \(jsonStringLiteral(part)) is empty or holds a space or a line break")
            }
        }
        try self.init(checked: merges, lines: merges.indices.map { $0 + 2 }, source: source)
    }

    private init(checked merges: [BPEMerge], lines: [Int], source: String) throws {
        var seen = [BPEMerge: Int](minimumCapacity: merges.count)
        for (merge, line) in zip(merges, lines) {
            if let first = seen[merge] {
                throw CheckpointError.invalidVocabulary(
                    file: source, line: line, reason: "merge '\(merge.left) \(merge.right)' repeats line \(first) (its rank would be ambiguous)")
            }
            seen[merge] = line
        }
        self.merges = merges
        self.lines = lines
        self.source = source
    }

    /// Reads `merges.txt` (UTF-8).
    public init(contentsOf url: URL) throws {
        let data = try CheckpointError.contents(of: url)
        try self.init(data: data, source: url.path)
    }

    /// Reads the bytes of a `merges.txt`; `source` names them in errors.
    public init(data: Data, source: String) throws {
        var merges: [BPEMerge] = []
        var lines: [Int] = []
        var pieces = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        // The line end after the last line does not start another line.
        if pieces.last?.isEmpty == true { pieces.removeLast() }
        for (index, var bytes) in pieces.enumerated() {
            let line = index + 1
            if bytes.last == UInt8(ascii: "\r") { bytes = bytes.dropLast() }
            guard let text = String(validating: bytes, as: UTF8.self) else {
                throw CheckpointError.invalidVocabulary(file: source, line: line, reason: "not valid UTF-8")
            }
            if text.utf8.starts(with: "#version".utf8) { continue }
            // Bytes, not Characters: a space followed by a combining mark is one Character.
            let parts = bytes.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw CheckpointError.invalidVocabulary(
                    file: source, line: line,
                    reason: "expected two tokens separated by one space, found \(jsonStringLiteral(text))")
            }
            merges.append(BPEMerge(String(decoding: parts[0], as: UTF8.self), String(decoding: parts[1], as: UTF8.self)))
            lines.append(line)
        }
        try self.init(checked: merges, lines: lines, source: source)
    }

    /// Number of rules.
    public var count: Int { merges.count }

    /// `merges.txt` as `tokenizers`' `save_model` writes it: `#version: 0.2`, then one `left right` per line.
    public var textData: Data {
        var text = "#version: 0.2\n"
        for merge in merges { text += merge.left + " " + merge.right + "\n" }
        return Data(text.utf8)
    }

    /// Writes `merges.txt`; `init(contentsOf:)` reads the same rules back.
    public func write(to url: URL) throws {
        do {
            try textData.write(to: url, options: .atomic)
        } catch {
            throw CheckpointError.unwritable(file: url.path, reason: error.localizedDescription)
        }
    }

    /// FNV-1a (64 bits, hex) of the rules in rank order.
    public var contentHash: String {
        var hasher = Fingerprinter()
        for merge in merges {
            hasher.add(merge.left)
            hasher.add(" ")
            hasher.add(merge.right)
            hasher.add("\n")
        }
        return hasher.value
    }

    public static func == (lhs: BPEMerges, rhs: BPEMerges) -> Bool { lhs.merges == rhs.merges }
}
