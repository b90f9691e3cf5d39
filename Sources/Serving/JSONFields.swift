import Foundation
import MRC

/// A JSON object of a request body with the path it sits at, whose accessors throw a 400
/// `ServingError` naming the field (`items[2].top_k`) and saying what was expected and found.
struct JSONFields {
    let object: [String: Any]
    /// Prefix of the fields' names: "" at the top, `items[2].` inside an array element.
    let path: String

    init(_ value: Any, path: String, name: String) throws(ServingError) {
        guard let object = value as? [String: Any] else {
            throw .badRequest("expected a JSON object, found \(JSONValues.describe(value))", field: name.isEmpty ? nil : name)
        }
        self.object = object
        self.path = path
    }

    /// Parses a request body: it must be one JSON object (UTF-8).
    static func parse(_ body: Data) throws(ServingError) -> JSONFields {
        guard !body.isEmpty else { throw .badRequest("the request body is empty: send a JSON object") }
        let value: Any
        do {
            value = try JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed])
        } catch {
            let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
            throw .badRequest("malformed JSON" + (detail.map { ": \($0)" } ?? ""))
        }
        guard value is [String: Any] else {
            throw .badRequest("the body must be a JSON object, found \(JSONValues.describe(value))")
        }
        return try JSONFields(value, path: "", name: "")
    }

    func field(_ key: String) -> String { path + key }

    /// Refuses keys other than `allowed` (a misspelt option must not be silently ignored).
    func onlyKeys(_ allowed: Set<String>) throws(ServingError) {
        if let unknown = object.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw .badRequest("unknown field; expected one of: \(allowed.sorted().joined(separator: ", "))", field: field(unknown))
        }
    }

    func has(_ key: String) -> Bool { object[key] != nil && !(object[key] is NSNull) }

    /// A required string with some non-whitespace content.
    func text(_ key: String) throws(ServingError) -> String {
        guard let value = object[key], !(value is NSNull) else { throw .badRequest("missing (a string is required)", field: field(key)) }
        guard let string = value as? String else {
            throw .badRequest("expected a string, found \(JSONValues.describe(value))", field: field(key))
        }
        guard string.unicodeScalars.contains(where: { !$0.properties.isWhitespace }) else {
            throw .badRequest("must not be empty", field: field(key))
        }
        return string
    }

    func optionalString(_ key: String) throws(ServingError) -> String? {
        guard has(key) else { return nil }
        guard let string = object[key] as? String else {
            throw .badRequest("expected a string, found \(JSONValues.describe(object[key]!))", field: field(key))
        }
        return string
    }

    /// An optional integer within `range`.
    func integer(_ key: String, in range: ClosedRange<Int>) throws(ServingError) -> Int? {
        guard has(key) else { return nil }
        let value = object[key]!
        guard let number = value as? NSNumber, !JSONValues.isBoolean(value), let int = Int(exactly: number.doubleValue) else {
            throw .badRequest("expected an integer, found \(JSONValues.describe(value, showingValue: true))", field: field(key))
        }
        guard range.contains(int) else {
            throw .badRequest("must be between \(range.lowerBound) and \(range.upperBound), got \(int)", field: field(key))
        }
        return int
    }

    /// A required array of at most `maxCount` elements, at least one.
    func array(_ key: String, maxCount: Int) throws(ServingError) -> [Any] {
        guard let value = object[key], !(value is NSNull) else { throw .badRequest("missing (an array is required)", field: field(key)) }
        guard let array = value as? [Any] else {
            throw .badRequest("expected an array, found \(JSONValues.describe(value))", field: field(key))
        }
        guard !array.isEmpty else { throw .badRequest("must not be empty", field: field(key)) }
        guard array.count <= maxCount else {
            throw .unprocessable("\(array.count) items, more than the \(maxCount) a request may hold", field: field(key))
        }
        return array
    }

    /// The object at `key` (required).
    func object(_ key: String) throws(ServingError) -> JSONFields {
        guard let value = object[key], !(value is NSNull) else { throw .badRequest("missing (an object is required)", field: field(key)) }
        return try JSONFields(value, path: field(key) + ".", name: field(key))
    }
}
