import Foundation

/// A JSON object from `JSONSerialization`, with the file and location it came from, so that every
/// failed field access throws a `DataReadError` that names file, record and field.
struct JSONRecord {
    let object: [String: Any]
    let file: String
    let location: String
    /// The id of the question this record is or belongs to, when known (errors name it).
    let recordId: String

    init(_ value: Any, file: String, location: String, field: String = "", recordId: String = "") throws {
        guard let object = value as? [String: Any] else {
            throw DataReadError(file: file, location: location, field: field, recordId: recordId,
                                message: "expected a JSON object, found \(JSONRecord.describe(value))")
        }
        self.object = object
        self.file = file
        self.location = location
        self.recordId = recordId
    }

    /// This record, knowing the id of its question (`key` when it holds a string).
    func identified(by key: String) -> JSONRecord {
        guard let id = object[key] as? String else { return self }
        return JSONRecord(object: object, file: file, location: location, recordId: id)
    }

    private init(object: [String: Any], file: String, location: String, recordId: String) {
        self.object = object
        self.file = file
        self.location = location
        self.recordId = recordId
    }

    func error(_ field: String, _ message: String) -> DataReadError {
        DataReadError(file: file, location: location, field: field, recordId: recordId, message: message)
    }

    func has(_ key: String) -> Bool { object[key] != nil && !(object[key] is NSNull) }

    func string(_ key: String) throws -> String {
        guard let value = object[key] else { throw error(key, "missing") }
        guard let string = value as? String else {
            throw error(key, "expected a string, found \(JSONRecord.describe(value))")
        }
        return string
    }

    func optionalString(_ key: String) throws -> String? { has(key) ? try string(key) : nil }

    func int(_ key: String) throws -> Int { try JSONRecord.int(object[key], field: key, in: self) }

    static func int(_ value: Any?, field: String, in record: JSONRecord) throws -> Int {
        guard let value else { throw record.error(field, "missing") }
        if let number = value as? NSNumber, !isBoolean(value), let int = Int(exactly: number.doubleValue) {
            return int
        }
        throw record.error(field, "expected an integer, found \(describe(value))")
    }

    func bool(_ key: String, default defaultValue: Bool) throws -> Bool {
        guard has(key) else { return defaultValue }
        if JSONRecord.isBoolean(object[key]!), let bool = object[key] as? Bool { return bool }
        throw error(key, "expected true or false, found \(JSONRecord.describe(object[key]!))")
    }

    func array(_ key: String) throws -> [Any] {
        guard let value = object[key] else { throw error(key, "missing") }
        guard let array = value as? [Any] else {
            throw error(key, "expected an array, found \(JSONRecord.describe(value))")
        }
        return array
    }

    func optionalArray(_ key: String) throws -> [Any]? { has(key) ? try array(key) : nil }

    static func isBoolean(_ value: Any) -> Bool { JSONValues.isBoolean(value) }

    static func describe(_ value: Any) -> String { JSONValues.describe(value) }
}

/// What error messages say about values from `JSONSerialization`.
public enum JSONValues {
    /// JSONSerialization gives numbers and booleans as NSNumber, and `is Bool` holds for both;
    /// the boolean ones have Objective-C type "c".
    public static func isBoolean(_ value: Any) -> Bool {
        guard let number = value as? NSNumber else { return false }
        return String(cString: number.objCType) == "c"
    }

    /// A short description of a JSON value's type for error messages; with `showingValue`, short
    /// strings and numbers are quoted too.
    public static func describe(_ value: Any, showingValue: Bool = false) -> String {
        switch value {
        case is NSNull: return "null"
        case let string as String: return showingValue ? "a string (\(string.prefix(40)))" : "a string"
        case let number as NSNumber:
            return isBoolean(number) ? "a boolean" : showingValue ? "the number \(number)" : "a number"
        case is [Any]: return "an array"
        case is [String: Any]: return "an object"
        default: return "\(type(of: value))"
        }
    }
}
