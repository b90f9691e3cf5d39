import Foundation

/// Everything that can be wrong with a checkpoint, a config.json or a vocab.txt. Each case names the
/// file and, where there is one, the tensor or field, so that the message alone says what to fix.
public enum CheckpointError: Error, Equatable, CustomStringConvertible, Sendable {
    case unreadable(file: String, reason: String)
    case malformedHeader(file: String, reason: String)
    case malformedTensor(file: String, tensor: String, reason: String)
    case unsupportedDType(file: String, tensor: String, dtype: String)
    case missingTensor(file: String, tensor: String)
    case shapeMismatch(file: String, tensor: String, expected: [Int], found: [Int])
    case unexpectedTensor(file: String, tensor: String)
    case invalidConfig(file: String, field: String, reason: String)
    case invalidVocabulary(file: String, line: Int, reason: String)
    /// A special token that BERT inputs need (`[UNK]`, `[CLS]`, …) is not in the vocabulary.
    case missingSpecialToken(file: String, token: String)
    case unwritable(file: String, reason: String)
    /// A byte-level BPE vocabulary lacks the tokens of some single bytes (each of the 256 must be a token).
    case incompleteByteAlphabet(missing: [String])

    public var description: String {
        switch self {
        case let .unreadable(file, reason):
            return "\(file): cannot read: \(reason)"
        case let .malformedHeader(file, reason):
            return "\(file): malformed safetensors header: \(reason)"
        case let .malformedTensor(file, tensor, reason):
            return "\(file): tensor '\(tensor)': \(reason)"
        case let .unsupportedDType(file, tensor, dtype):
            return "\(file): tensor '\(tensor)': unsupported dtype '\(dtype)'"
        case let .missingTensor(file, tensor):
            return "\(file): missing tensor '\(tensor)'"
        case let .shapeMismatch(file, tensor, expected, found):
            return "\(file): tensor '\(tensor)' has shape \(found), expected \(expected)"
        case let .unexpectedTensor(file, tensor):
            return "\(file): unexpected tensor '\(tensor)' (not part of a BERT encoder, span head or MLM head)"
        case let .invalidConfig(file, field, reason):
            return "\(file): field '\(field)': \(reason)"
        case let .invalidVocabulary(file, line, reason):
            return "\(file): line \(line): \(reason)"
        case let .missingSpecialToken(file, token):
            return "\(file): the vocabulary lacks the special token \(token)"
        case let .unwritable(file, reason):
            return "\(file): cannot write: \(reason)"
        case let .incompleteByteAlphabet(missing):
            return "the vocabulary lacks the byte-level tokens \(missing.joined(separator: " ")): a byte-level BPE "
                + "needs a token for each of the 256 bytes"
        }
    }
}

extension CheckpointError {
    /// The bytes of `url`, or `.unreadable` naming the file: the one read of every checkpoint reader.
    static func contents(of url: URL, options: Data.ReadingOptions = []) throws -> Data {
        do {
            return try Data(contentsOf: url, options: options)
        } catch {
            throw CheckpointError.unreadable(file: url.path, reason: error.localizedDescription)
        }
    }
}
