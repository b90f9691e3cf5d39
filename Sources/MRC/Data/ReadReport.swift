import Checkpoint
/// Why reading a data file failed: the file, where in it (line or record path), the field, and what
/// was wrong. Readers throw this for input they cannot interpret; they never trap on bad input.
public struct DataReadError: Error, CustomStringConvertible, Sendable, Equatable {
    public var file: String
    /// "line 12", "data[3].paragraphs[0].qas[5]", ... ; empty when the whole file is at fault.
    public var location: String
    /// The JSON field at fault, e.g. "answers[0].answer_start"; empty when not about one field.
    public var field: String
    public var message: String
    /// The id of the question at fault, when known.
    public var recordId: String

    public init(file: String, location: String = "", field: String = "", recordId: String = "", message: String) {
        self.file = file
        self.location = location
        self.field = field
        self.recordId = recordId
        self.message = message
    }

    public var description: String {
        var text = file
        if !location.isEmpty { text += ", \(location)" }
        if !recordId.isEmpty { text += " (question \(jsonStringLiteral(String(recordId.prefix(80)))))" }
        if !field.isEmpty { text += ", field `\(field)`" }
        return text + ": " + message
    }
}

/// A record (question or answer span) a reader left out, and why. Nothing is dropped silently:
/// every reader returns its skips in a `ReadReport`.
public struct SkippedRecord: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// A whole question was left out.
        case question
        /// One answer span was left out; the question and its answer texts were kept.
        case answerSpan = "answer span"
    }

    public var kind: Kind
    public var file: String
    public var location: String
    public var reason: String

    public var description: String { "\(file), \(location): skipped \(kind.rawValue): \(reason)" }
}

/// What a reader read and what it skipped.
public struct ReadReport: Sendable {
    public var file: String
    public var questions = 0
    public var contexts = 0
    public var skipped: [SkippedRecord] = []

    public init(file: String) { self.file = file }

    public var skippedQuestions: Int { skipped.lazy.filter { $0.kind == .question }.count }
    public var skippedAnswerSpans: Int { skipped.lazy.filter { $0.kind == .answerSpan }.count }

    mutating func skip(_ kind: SkippedRecord.Kind, at location: String, _ reason: String) {
        skipped.append(SkippedRecord(kind: kind, file: file, location: location, reason: reason))
    }

    /// Throws for the first skipped record (what `--strict` asks for), naming how many there are in all.
    public func requireNothingSkipped() throws {
        guard let first = skipped.first else { return }
        throw DataReadError(file: file, location: first.location,
                            message: "--strict: the reader would skip this \(first.kind.rawValue): \(first.reason) "
                                + "(\(skipped.count) record\(skipped.count == 1 ? "" : "s") to skip in this file)")
    }

    /// One line for logs, e.g. "dev.json: 845 questions in 48 contexts; skipped 0 questions, 2 answer spans".
    public var summary: String {
        "\(file): \(questions) questions in \(contexts) contexts; skipped \(skippedQuestions) questions, "
            + "\(skippedAnswerSpans) answer spans"
    }
}

/// Examples read from one file, with the report of what was skipped.
public struct MRCDataset: Sendable {
    /// Dataset name (see `MRCExample.dataset`).
    public var name: String
    public var file: String
    public var format: Format
    public var examples: [MRCExample]
    public var report: ReadReport

    public enum Format: String, Sendable {
        case squad1 = "SQuAD v1.1"
        case squad2 = "SQuAD v2.0"
        case mrqa = "MRQA"
    }
}
