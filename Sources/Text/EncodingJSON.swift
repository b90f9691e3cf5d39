extension Encoding {
    /// One JSON object `{"ids": [...], "tokens": [...], "offsets": [[start, end], ...]}` on one
    /// line, keys in that order, offsets in Unicode scalars (Python string indices).
    public var jsonLine: String {
        var line = "{\"ids\": ["
        line += ids.map(String.init).joined(separator: ", ")
        line += "], \"tokens\": ["
        line += tokens.map(Self.jsonString).joined(separator: ", ")
        line += "], \"offsets\": ["
        line += offsets.map { "[\($0.lowerBound), \($0.upperBound)]" }.joined(separator: ", ")
        line += "]}"
        return line
    }

    /// `text` as a JSON string literal: quotes, backslashes and control characters escaped,
    /// everything else as UTF-8.
    static func jsonString(_ text: String) -> String {
        var quoted = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": quoted += "\\\""
            case "\\": quoted += "\\\\"
            case "\n": quoted += "\\n"
            case "\r": quoted += "\\r"
            case "\t": quoted += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16)
                    quoted += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    quoted.unicodeScalars.append(scalar)
                }
            }
        }
        return quoted + "\""
    }
}
