import Checkpoint
import Foundation
import MRC
import Training

/// One answer a black-box teacher proposes for a question.
public struct BlackBoxCandidate: Sendable, Equatable {
    public var text: String
    /// The probability the file gives (1 for `predictions.json`); renormalised at scoring time over
    /// the candidates of the question that are kept (non-empty and found in the context).
    public var probability: Double
    /// Character (Unicode-scalar) offset of the answer in the context, when the file gives one
    /// (`offset`, `answer_start` or `start`): the occurrence nearest to it is used.
    public var offset: Int?

    public init(text: String, probability: Double, offset: Int? = nil) {
        self.text = text
        self.probability = probability
        self.offset = offset
    }
}

/// A black-box teacher's prediction file, read.
///
/// Two formats, told apart by content (not by name):
/// - `predictions.json`: `{question id: answer text}`, one candidate of probability 1 per question;
/// - `nbest_predictions.json`: `{question id: [{"text", "probability", optional "start_logit",
///   "end_logit", optional character offset "offset" | "answer_start" | "start"}]}`.
///
/// Every value must be of the format's type; errors are `DataReadError`s naming the file and the key
/// (and the field), never crashes. Candidates whose text is empty or only whitespace are left out of
/// `candidates`, counted per question in `emptyCandidates` and their probabilities summed in `emptyMass`: on
/// SQuAD 2.0 data they are the teacher's "no answer" (see `BlackBoxTeacher`).
public struct BlackBoxPredictions: Sendable {
    public enum Format: String, Sendable {
        case answers = "predictions"
        case nBest = "nbest"
    }

    public var file: String
    public var format: Format
    /// Question key → kept candidates, in file order (may be empty when all were empty texts).
    public var candidates: [String: [BlackBoxCandidate]]
    /// Question key → number of candidates left out for an empty text (only keys with some).
    public var emptyCandidates: [String: Int]
    /// Question key → the summed probability of its empty candidates (1 for a `predictions.json` answer "").
    public var emptyMass: [String: Double] = [:]
    /// `fingerprint()` (FNV-1a 64) of the file's text.
    public var contentFingerprint: String

    /// Reads and parses `url`.
    public static func read(_ url: URL) throws -> BlackBoxPredictions {
        try parse(DataFile.contents(of: url), file: url.path)
    }

    /// Parses the content of a prediction file; `file` names it in errors.
    public static func parse(_ data: Data, file: String) throws -> BlackBoxPredictions {
        let root: Any
        do { root = try FoundationJSON.parse(data, options: [.fragmentsAllowed]) } catch {
            throw DataReadError(file: file, message: "is not valid JSON at \(JSONSyntax.explain(data, refusal: error))")
        }
        guard let object = root as? [String: Any] else {
            throw DataReadError(file: file, message: "expected a JSON object of question id → answer, found \(describe(root))")
        }
        // Keys in sorted order, so that the first error reported is the same on every run.
        let keys = object.keys.sorted()
        let format: Format = keys.first.map { object[$0] is [Any] ? .nBest : .answers } ?? .answers
        var result = BlackBoxPredictions(file: file, format: format, candidates: [:], emptyCandidates: [:],
                                         contentFingerprint: fingerprint(String(decoding: data, as: UTF8.self)))
        result.candidates.reserveCapacity(keys.count)
        for key in keys {
            let value = object[key]!
            let location = "key \"\(key)\""
            var kept: [BlackBoxCandidate] = []
            var empty = 0
            var emptyMass = 0.0
            switch format {
            case .answers:
                guard let text = value as? String else {
                    throw DataReadError(file: file, location: location,
                                        message: "expected an answer string (predictions format, as the first key), found \(describe(value))")
                }
                if isBlank(text) { empty += 1; emptyMass += 1 } else { kept.append(BlackBoxCandidate(text: text, probability: 1)) }
            case .nBest:
                guard let entries = value as? [Any] else {
                    throw DataReadError(file: file, location: location,
                                        message: "expected an n-best array (nbest format, as the first key), found \(describe(value))")
                }
                for (index, entry) in entries.enumerated() {
                    let candidate = try parseCandidate(entry, file: file, location: location, index: index)
                    if isBlank(candidate.text) { empty += 1; emptyMass += candidate.probability } else { kept.append(candidate) }
                }
            }
            result.candidates[key] = kept
            if empty > 0 { result.emptyCandidates[key] = empty; result.emptyMass[key] = emptyMass }
        }
        return result
    }

    static func parseCandidate(_ entry: Any, file: String, location: String, index: Int) throws -> BlackBoxCandidate {
        func failure(_ field: String, _ message: String) -> DataReadError {
            DataReadError(file: file, location: location, field: "[\(index)]" + (field.isEmpty ? "" : ".\(field)"),
                          message: message)
        }
        guard let fields = entry as? [String: Any] else {
            throw failure("", "expected an n-best entry object, found \(describe(entry))")
        }
        guard let textValue = fields["text"] else { throw failure("text", "missing") }
        guard let text = textValue as? String else { throw failure("text", "expected a string, found \(describe(textValue))") }
        guard let probabilityValue = fields["probability"] else { throw failure("probability", "missing") }
        guard let probability = number(probabilityValue), probability.isFinite, probability >= 0 else {
            throw failure("probability", "expected a finite number ≥ 0, found \(describe(probabilityValue))")
        }
        for logit in ["start_logit", "end_logit"] {
            if let value = fields[logit], !(value is NSNull), number(value) == nil {
                throw failure(logit, "expected a number, found \(describe(value))")
            }
        }
        var offset: Int?
        for field in ["offset", "answer_start", "start"] {
            guard let value = fields[field], !(value is NSNull) else { continue }
            guard let double = number(value), let int = Int(exactly: double), int >= 0 else {
                throw failure(field, "expected a character offset (integer ≥ 0), found \(describe(value))")
            }
            offset = int
            break
        }
        return BlackBoxCandidate(text: text, probability: probability, offset: offset)
    }

    /// Whether a candidate text counts as empty: nothing but whitespace.
    static func isBlank(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { $0.properties.isWhitespace }
    }

    /// A JSON number (not a boolean) as a Double.
    static func number(_ value: Any) -> Double? {
        guard let number = value as? NSNumber, !JSONValues.isBoolean(number) else { return nil }
        return number.doubleValue
    }

    static func describe(_ value: Any) -> String { JSONValues.describe(value, showingValue: true) }
}
