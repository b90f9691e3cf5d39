/// `text` as a JSON string literal: `"` and `\` escaped, `\n` `\r` `\t` as short escapes, other
/// control characters (below U+0020) as `\u00xx`, everything else written as itself (UTF-8).
///
/// The one JSON string escaper of the package (safetensors headers, report JSON, tokenizer output).
/// - Parameter escapingDelete: also write U+007F as `\u007f` (the tokenizer's JSON lines do).
public func jsonStringLiteral(_ text: String, escapingDelete: Bool = false) -> String {
    var quoted = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": quoted += "\\\""
        case "\\": quoted += "\\\\"
        case "\n": quoted += "\\n"
        case "\r": quoted += "\\r"
        case "\t": quoted += "\\t"
        default:
            if scalar.value < 0x20 || (escapingDelete && scalar.value == 0x7F) {
                let hex = String(scalar.value, radix: 16)
                quoted += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                quoted.unicodeScalars.append(scalar)
            }
        }
    }
    return quoted + "\""
}
