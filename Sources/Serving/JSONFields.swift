import Checkpoint
import Foundation

/// A JSON object of a request body with the path it sits at, whose accessors throw a 400
/// `ServingError` naming the field (`items[2].top_k`) and saying what was expected and found.
///
/// Bodies are read with `JSONDecoder` into `JSONValue`, not with `JSONSerialization`: on this
/// toolchain the latter drops a U+FEFF that starts a string or follows an escape sequence (found by
/// `ServingFuzzTests`), which would shift every answer offset after it.
struct JSONFields {
    let object: [String: JSONValue]
    /// Prefix of the fields' names: "" at the top, `items[2].` inside an array element.
    let path: String

    init(_ value: JSONValue, path: String, name: String) throws(ServingError) {
        guard case .object(let object) = value else {
            throw .badRequest("expected a JSON object, found \(Self.describe(value))", field: name.isEmpty ? nil : name)
        }
        self.object = object
        self.path = path
    }

    /// Parses a request body: it must be one JSON object (UTF-8).
    static func parse(_ body: Data) throws(ServingError) -> JSONFields {
        guard !body.isEmpty else { throw .badRequest("the request body is empty: send a JSON object") }
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: body)
        } catch DecodingError.typeMismatch(_, let context) where !context.codingPath.isEmpty {
            throw .badRequest("a value that cannot be read (a number out of range?)",
                              field: fieldPath(context.codingPath))
        } catch {
            throw .badRequest("malformed JSON: the body is not valid UTF-8 JSON (or nests deeper than the parser allows)")
        }
        guard case .object = value else { throw .badRequest("the body must be a JSON object, found \(describe(value))") }
        return try JSONFields(value, path: "", name: "")
    }

    /// What error messages say about a value.
    static func describe(_ value: JSONValue, showingValue: Bool = false) -> String {
        switch value {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int(let number): return showingValue ? "the number \(number)" : "a number"
        case .double(let number): return showingValue ? "the number \(number)" : "a number"
        case .string(let text): return showingValue ? "a string (\(text.prefix(40)))" : "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    func field(_ key: String) -> String { path + key }

    /// Refuses keys other than `allowed` (a misspelt option must not be silently ignored).
    func onlyKeys(_ allowed: Set<String>) throws(ServingError) {
        if let unknown = object.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw .badRequest("unknown field; expected one of: \(allowed.sorted().joined(separator: ", "))", field: field(unknown))
        }
    }

    /// The value at `key`, nil when absent or null.
    func value(_ key: String) -> JSONValue? {
        guard let value = object[key], value != .null else { return nil }
        return value
    }

    func has(_ key: String) -> Bool { value(key) != nil }

    /// A required string with some non-whitespace content.
    func text(_ key: String) throws(ServingError) -> String {
        guard let value = value(key) else { throw .badRequest("missing (a string is required)", field: field(key)) }
        guard case .string(let string) = value else {
            throw .badRequest("expected a string, found \(Self.describe(value))", field: field(key))
        }
        guard string.unicodeScalars.contains(where: { !$0.properties.isWhitespace }) else {
            throw .badRequest("must not be empty", field: field(key))
        }
        return string
    }

    func optionalString(_ key: String) throws(ServingError) -> String? {
        guard let value = value(key) else { return nil }
        guard case .string(let string) = value else {
            throw .badRequest("expected a string, found \(Self.describe(value))", field: field(key))
        }
        return string
    }

    /// An optional integer within `range` (2.0 counts as 2; 2.5 and booleans do not).
    func integer(_ key: String, in range: ClosedRange<Int>) throws(ServingError) -> Int? {
        guard let value = value(key) else { return nil }
        let int: Int?
        switch value {
        case .int(let number): int = number
        case .double(let number): int = Int(exactly: number)
        default: int = nil
        }
        guard let int else {
            throw .badRequest("expected an integer, found \(Self.describe(value, showingValue: true))", field: field(key))
        }
        guard range.contains(int) else {
            throw .badRequest("must be between \(range.lowerBound) and \(range.upperBound), got \(int)", field: field(key))
        }
        return int
    }

    /// A required array of at most `maxCount` elements, at least one.
    func array(_ key: String, maxCount: Int) throws(ServingError) -> [JSONValue] {
        guard let value = value(key) else { throw .badRequest("missing (an array is required)", field: field(key)) }
        guard case .array(let array) = value else {
            throw .badRequest("expected an array, found \(Self.describe(value))", field: field(key))
        }
        guard !array.isEmpty else { throw .badRequest("must not be empty", field: field(key)) }
        guard array.count <= maxCount else {
            throw .unprocessable("\(array.count) items, more than the \(maxCount) a request may hold (--max-items)", field: field(key))
        }
        return array
    }

    /// The object at `key` (required).
    func object(_ key: String) throws(ServingError) -> JSONFields {
        guard let value = value(key) else { throw .badRequest("missing (an object is required)", field: field(key)) }
        return try JSONFields(value, path: field(key) + ".", name: field(key))
    }
}
