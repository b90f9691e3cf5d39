import Foundation

/// Where a JSON text first breaks RFC 8259, for error messages that point: Foundation's parser says only
/// "The data couldn't be read because it isn't in the correct format". Line and column count from 1;
/// the column counts characters (Unicode scalars), not bytes.
public struct JSONSyntaxError: Error, Equatable, Sendable, CustomStringConvertible {
    public let line: Int
    public let column: Int
    public let message: String
    /// Byte offset of the problem in the text.
    public let offset: Int

    public var description: String { "line \(line), column \(column): \(message)" }
}

/// A validator of JSON text (RFC 8259, UTF-8) that finds the first error and its position. It builds
/// nothing; readers parse with Foundation and ask it only when that fails, so it accepts what Foundation's
/// parser accepts: RFC 8259 plus a trailing comma before `]` or `}`, minus numbers beyond the range of a
/// Double and `\u` escapes of unpaired surrogates. Nesting deeper than `maximumDepth` is an error (a
/// nesting bomb must not exhaust the stack).
public enum JSONSyntax {
    public static let maximumDepth = 512

    /// Why Foundation refused `data`, for an error message: "line L, column C: what" where the locator
    /// finds the problem (with `line` given, the text is that line of a file: "column C: what"), else
    /// Foundation's own words.
    public static func explain(_ data: Data, refusal: Error, line: Int? = nil) -> String {
        guard let error = firstError(in: data) else { return refusal.localizedDescription }
        if line != nil, error.line == 1 { return "column \(error.column): \(error.message)" }
        return error.description
    }

    /// The first syntax error of `data`, or nil when it is one valid JSON value (any type at the top).
    public static func firstError(in data: Data) -> JSONSyntaxError? {
        data.withUnsafeBytes { raw in
            var scanner = Scanner(bytes: raw.bindMemory(to: UInt8.self))
            do {
                scanner.skipWhitespace()
                try scanner.value(depth: 0)
                scanner.skipWhitespace()
                if scanner.index < scanner.bytes.count { throw scanner.failure("unexpected text after the JSON value") }
                return nil
            } catch let error as JSONSyntaxError {
                return error
            } catch {
                return nil
            }
        }
    }

    private struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        var current: UInt8? { index < bytes.count ? bytes[index] : nil }

        func failure(_ message: String, at offset: Int? = nil) -> JSONSyntaxError {
            let position = min(offset ?? index, bytes.count)
            var line = 1, column = 1
            for i in 0..<position {
                if bytes[i] == 0x0A { line += 1; column = 1 } else if bytes[i] & 0xC0 != 0x80 { column += 1 }
            }
            let found = position < bytes.count ? describe(bytes[position]) : "the end of the text"
            return JSONSyntaxError(line: line, column: column, message: "\(message), found \(found)", offset: position)
        }

        private func describe(_ byte: UInt8) -> String {
            if byte >= 0x21 && byte < 0x7F { return "'\(Character(UnicodeScalar(byte)))'" }
            return String(format: "byte 0x%02X", byte)
        }

        mutating func skipWhitespace() {
            while let byte = current, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { index += 1 }
        }

        mutating func value(depth: Int) throws {
            guard let byte = current else { throw failure("expected a value") }
            switch byte {
            case UInt8(ascii: "{"): try object(depth: depth + 1)
            case UInt8(ascii: "["): try array(depth: depth + 1)
            case UInt8(ascii: "\""): try string()
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try number()
            case UInt8(ascii: "t"): try literal("true")
            case UInt8(ascii: "f"): try literal("false")
            case UInt8(ascii: "n"): try literal("null")
            default: throw failure("expected a value")
            }
        }

        private mutating func object(depth: Int) throws {
            guard depth <= JSONSyntax.maximumDepth else { throw failure("nesting deeper than \(JSONSyntax.maximumDepth) levels") }
            index += 1
            skipWhitespace()
            if current == UInt8(ascii: "}") { index += 1; return }
            while true {
                if current == UInt8(ascii: "}") { index += 1; return }  // after a trailing comma
                guard current == UInt8(ascii: "\"") else { throw failure("expected a string key") }
                try string()
                skipWhitespace()
                guard current == UInt8(ascii: ":") else { throw failure("expected ':' after the key") }
                index += 1
                skipWhitespace()
                try value(depth: depth)
                skipWhitespace()
                if current == UInt8(ascii: ",") { index += 1; skipWhitespace(); continue }
                if current == UInt8(ascii: "}") { index += 1; return }
                throw failure("expected ',' or '}' after an object member")
            }
        }

        private mutating func array(depth: Int) throws {
            guard depth <= JSONSyntax.maximumDepth else { throw failure("nesting deeper than \(JSONSyntax.maximumDepth) levels") }
            index += 1
            skipWhitespace()
            if current == UInt8(ascii: "]") { index += 1; return }
            while true {
                if current == UInt8(ascii: "]") { index += 1; return }  // after a trailing comma
                try value(depth: depth)
                skipWhitespace()
                if current == UInt8(ascii: ",") { index += 1; skipWhitespace(); continue }
                if current == UInt8(ascii: "]") { index += 1; return }
                throw failure("expected ',' or ']' after an array element")
            }
        }

        private mutating func string() throws {
            let start = index
            index += 1
            while true {
                guard let byte = current else { throw failure("unterminated string (opened at \(position(start)))") }
                switch byte {
                case UInt8(ascii: "\""): index += 1; return
                case UInt8(ascii: "\\"):
                    index += 1
                    guard let escaped = current else { throw failure("unterminated string (opened at \(position(start)))") }
                    if escaped == UInt8(ascii: "u") {
                        let unit = try hexUnit(at: index + 1)
                        if (0xDC00...0xDFFF).contains(unit) { throw failure("unpaired surrogate in a \\u escape", at: index - 1) }
                        index += 5
                        if (0xD800...0xDBFF).contains(unit) {
                            guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u"),
                                  (0xDC00...0xDFFF).contains(try hexUnit(at: index + 2)) else {
                                throw failure("unpaired surrogate in a \\u escape", at: index - 6)
                            }
                            index += 6
                        }
                    } else if Array("\"\\/bfnrt".utf8).contains(escaped) {
                        index += 1
                    } else {
                        throw failure("invalid escape in a string")
                    }
                case 0x00..<0x20: throw failure("control character in a string (escape it)")
                case 0x80...: try utf8Sequence()
                default: index += 1
                }
            }
        }

        /// The four hexadecimal digits of a `\\u` escape starting at `offset`.
        private func hexUnit(at offset: Int) throws -> Int {
            var unit = 0
            for k in 0..<4 {
                guard offset + k < bytes.count, let digit = bytes[offset + k].hexValue else {
                    throw failure("\\u needs four hexadecimal digits", at: min(offset + k, bytes.count))
                }
                unit = unit * 16 + digit
            }
            return unit
        }

        /// One multi-byte UTF-8 sequence (no overlong forms, no surrogates, at most U+10FFFF).
        private mutating func utf8Sequence() throws {
            let lead = bytes[index]
            let (length, low, high): (Int, UInt8, UInt8)
            switch lead {
            case 0xC2...0xDF: (length, low, high) = (2, 0x80, 0xBF)
            case 0xE0: (length, low, high) = (3, 0xA0, 0xBF)
            case 0xED: (length, low, high) = (3, 0x80, 0x9F)
            case 0xE1...0xEF: (length, low, high) = (3, 0x80, 0xBF)
            case 0xF0: (length, low, high) = (4, 0x90, 0xBF)
            case 0xF4: (length, low, high) = (4, 0x80, 0x8F)
            case 0xF1...0xF3: (length, low, high) = (4, 0x80, 0xBF)
            default: throw failure("invalid UTF-8")
            }
            for k in 1..<length {
                guard index + k < bytes.count else { throw failure("invalid UTF-8 (truncated sequence)") }
                let byte = bytes[index + k]
                guard k == 1 ? (low...high).contains(byte) : (0x80...0xBF).contains(byte) else { throw failure("invalid UTF-8") }
            }
            index += length
        }

        private mutating func number() throws {
            let start = index
            try numberSyntax()
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            if let value = Double(text), !value.isFinite { throw failure("number out of range", at: start) }
        }

        private mutating func numberSyntax() throws {
            if current == UInt8(ascii: "-") { index += 1 }
            guard let first = current, first.isDigit else { throw failure("invalid number: a digit must follow '-'") }
            index += 1
            if first != UInt8(ascii: "0") { while current?.isDigit == true { index += 1 } }
            if current == UInt8(ascii: ".") {
                index += 1
                guard current?.isDigit == true else { throw failure("invalid number: a digit must follow '.'") }
                while current?.isDigit == true { index += 1 }
            }
            if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
                index += 1
                if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
                guard current?.isDigit == true else { throw failure("invalid number: the exponent needs digits") }
                while current?.isDigit == true { index += 1 }
            }
        }

        private mutating func literal(_ word: String) throws {
            for (k, expected) in word.utf8.enumerated() {
                guard index + k < bytes.count, bytes[index + k] == expected else {
                    throw failure("expected a value (\(word)?)", at: index + k)
                }
            }
            index += word.utf8.count
        }

        private func position(_ offset: Int) -> String {
            let error = failure("", at: offset)
            return "line \(error.line), column \(error.column)"
        }
    }
}

private extension UInt8 {
    var isDigit: Bool { self >= UInt8(ascii: "0") && self <= UInt8(ascii: "9") }
    var hexValue: Int? {
        if isDigit { return Int(self - UInt8(ascii: "0")) }
        let lower = self | 0x20
        return lower >= UInt8(ascii: "a") && lower <= UInt8(ascii: "f") ? Int(lower - UInt8(ascii: "a")) + 10 : nil
    }
}
