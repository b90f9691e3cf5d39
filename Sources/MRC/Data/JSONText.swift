import Checkpoint
import Foundation

/// A minimal JSON writer that keeps key order and prints doubles with round-trip precision.
public indirect enum JSONText: Sendable {
    case string(String)
    case number(Double)
    case integer(Int)
    case array([JSONText])
    case object([(String, JSONText)])

    public var rendered: String {
        switch self {
        case .string(let text): return jsonStringLiteral(text)
        case .number(let value): return value.isFinite ? "\(value)" : "null"
        case .integer(let value): return "\(value)"
        case .array(let items): return "[" + items.map(\.rendered).joined(separator: ", ") + "]"
        case .object(let fields):
            return "{" + fields.map { jsonStringLiteral($0.0) + ": " + $0.1.rendered }.joined(separator: ", ") + "}"
        }
    }
}
