import Checkpoint

extension Encoding {
    /// One JSON object `{"ids": [...], "tokens": [...], "offsets": [[start, end], ...]}` on one
    /// line, keys in that order, offsets in Unicode scalars (Python string indices).
    public var jsonLine: String {
        var line = "{\"ids\": ["
        line += ids.map(String.init).joined(separator: ", ")
        line += "], \"tokens\": ["
        line += tokens.map { jsonStringLiteral($0, escapingDelete: true) }.joined(separator: ", ")
        line += "], \"offsets\": ["
        line += offsets.map { "[\($0.lowerBound), \($0.upperBound)]" }.joined(separator: ", ")
        line += "]}"
        return line
    }
}
