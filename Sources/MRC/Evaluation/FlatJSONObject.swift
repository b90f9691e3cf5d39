import Foundation

/// A parser for flat JSON objects — `{"key": "text" | number, ...}` — that keeps the keys' order.
///
/// Predictions files map question ids to answer texts and no-answer-probability files map them to
/// numbers. The SQuAD v2.0 best-threshold search visits questions in a stable sort of the
/// probabilities file's order, so that order must survive parsing, which `JSONSerialization`'s
/// dictionaries do not promise. A repeated key keeps its first position and its last value, as in
/// Python's `json.load`.
public struct FlatJSONObject: Sendable {
    public enum Value: Sendable, Equatable {
        case string(String)
        case number(Double)
    }

    public private(set) var keys: [String] = []
    public private(set) var values: [String: Value] = [:]

    public subscript(key: String) -> Value? { values[key] }

    public static func read(_ url: URL) throws -> FlatJSONObject {
        try parse(DataFile.contents(of: url), file: url.path)
    }

    public static func parse(_ data: Data, file: String) throws -> FlatJSONObject {
        var parser = Parser(bytes: [UInt8](data), file: file)
        return try parser.parseObject()
    }

    private struct Parser {
        let bytes: [UInt8]
        let file: String
        var position = 0

        func error(_ message: String, field: String = "") -> DataReadError {
            var line = 1
            var column = 1
            for byte in bytes[0..<min(position, bytes.count)] {
                if byte == 0x0A { line += 1; column = 1 } else { column += 1 }
            }
            return DataReadError(file: file, location: "line \(line), column \(column)", field: field, message: message)
        }

        mutating func skipWhitespace() {
            while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
        }

        mutating func expect(_ byte: UInt8, _ what: String) throws {
            skipWhitespace()
            guard position < bytes.count, bytes[position] == byte else { throw error("expected \(what)") }
            position += 1
        }

        mutating func parseObject() throws -> FlatJSONObject {
            var object = FlatJSONObject()
            try expect(UInt8(ascii: "{"), "a JSON object ({)")
            skipWhitespace()
            if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
                position += 1
            } else {
                while true {
                    skipWhitespace()
                    let key = try parseString()
                    try expect(UInt8(ascii: ":"), "':' after a key")
                    skipWhitespace()
                    let value = try parseValue(key: key)
                    if object.values.updateValue(value, forKey: key) == nil { object.keys.append(key) }
                    skipWhitespace()
                    guard position < bytes.count else { throw error("unterminated object") }
                    if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
                    if bytes[position] == UInt8(ascii: "}") { position += 1; break }
                    throw error("expected ',' or '}'")
                }
            }
            skipWhitespace()
            guard position == bytes.count else { throw error("unexpected content after the object") }
            return object
        }

        mutating func parseValue(key: String) throws -> Value {
            guard position < bytes.count else { throw error("missing value", field: key) }
            if bytes[position] == UInt8(ascii: "\"") { return .string(try parseString()) }
            let start = position
            while position < bytes.count, let scalar = Optional(bytes[position]),
                  (scalar >= 0x30 && scalar <= 0x39) || [0x2D, 0x2B, 0x2E, 0x65, 0x45].contains(scalar) {
                position += 1
            }
            guard position > start, let number = Double(String(decoding: bytes[start..<position], as: UTF8.self)) else {
                throw error("expected a string or a number", field: key)
            }
            return .number(number)
        }

        mutating func parseString() throws -> String {
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw error("expected a string") }
            position += 1
            var scalars = String.UnicodeScalarView()
            var runStart = position
            func flushRun(_ end: Int) {
                scalars.append(contentsOf: String(decoding: bytes[runStart..<end], as: UTF8.self).unicodeScalars)
            }
            while position < bytes.count {
                let byte = bytes[position]
                if byte == UInt8(ascii: "\"") {
                    flushRun(position)
                    position += 1
                    return String(scalars)
                }
                if byte == UInt8(ascii: "\\") {
                    flushRun(position)
                    position += 1
                    guard position < bytes.count else { break }
                    let escape = bytes[position]
                    position += 1
                    switch escape {
                    case UInt8(ascii: "\""): scalars.append("\"")
                    case UInt8(ascii: "\\"): scalars.append("\\")
                    case UInt8(ascii: "/"): scalars.append("/")
                    case UInt8(ascii: "b"): scalars.append("\u{8}")
                    case UInt8(ascii: "f"): scalars.append("\u{C}")
                    case UInt8(ascii: "n"): scalars.append("\n")
                    case UInt8(ascii: "r"): scalars.append("\r")
                    case UInt8(ascii: "t"): scalars.append("\t")
                    case UInt8(ascii: "u"):
                        var unit = try parseHex4()
                        if unit >= 0xD800 && unit < 0xDC00, position + 1 < bytes.count,
                           bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u") {
                            let saved = position
                            position += 2
                            let low = try parseHex4()
                            if low >= 0xDC00 && low < 0xE000 {
                                unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                            } else {
                                position = saved
                            }
                        }
                        scalars.append(Unicode.Scalar(unit) ?? "\u{FFFD}")
                    default:
                        throw error("invalid escape \\\(Character(Unicode.Scalar(escape)))")
                    }
                    runStart = position
                    continue
                }
                position += 1
            }
            throw error("unterminated string")
        }

        mutating func parseHex4() throws -> UInt32 {
            guard position + 4 <= bytes.count,
                  let value = UInt32(String(decoding: bytes[position..<(position + 4)], as: UTF8.self), radix: 16)
            else { throw error("invalid \\u escape") }
            position += 4
            return value
        }
    }
}
