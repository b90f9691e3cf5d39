import Foundation

/// A decoding error's key path as a field name for messages: `items[2].question`, `generatorState[1]`.
public func fieldPath(_ keys: [any CodingKey]) -> String {
    keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        .trimmingCharacters(in: CharacterSet(charactersIn: "."))
}
