import Foundation

/// Errors raised while loading tokenizer inputs. Each names the file and the line at fault.
public enum TextError: Error, CustomStringConvertible, Equatable {
    /// The vocabulary file could not be read at all.
    case unreadableVocabulary(path: String, reason: String)
    /// The vocabulary file is not valid UTF-8.
    case vocabularyNotUTF8(path: String)
    /// The vocabulary file holds no tokens.
    case emptyVocabulary(path: String)
    /// A token appears on two lines; ids would be ambiguous.
    case duplicateToken(path: String, token: String, firstLine: Int, line: Int)
    /// A special token that BERT encodings need (`[UNK]`, `[CLS]`, …) is missing.
    case missingSpecialToken(path: String, token: String)

    public var description: String {
        switch self {
        case let .unreadableVocabulary(path, reason):
            return "cannot read vocabulary file \(path): \(reason)"
        case let .vocabularyNotUTF8(path):
            return "vocabulary file \(path) is not valid UTF-8"
        case let .emptyVocabulary(path):
            return "vocabulary file \(path) holds no tokens"
        case let .duplicateToken(path, token, firstLine, line):
            return "vocabulary file \(path): token \"\(token)\" on line \(line) already appeared on line \(firstLine)"
        case let .missingSpecialToken(path, token):
            return "vocabulary file \(path) lacks the special token \(token)"
        }
    }
}
