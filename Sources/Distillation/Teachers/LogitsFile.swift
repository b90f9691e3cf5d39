import Checkpoint
import Foundation
import MRC

/// A teacher-logits file (docs/TEACHER-LOGITS.md), read whole: per-token start/end logits of a teacher run
/// elsewhere (scripts/teacher_logits.py runs any Hugging Face QA model), with the context character offsets
/// of its tokens and its null (`[CLS]`) logits, one JSON line per teacher window after a header line.
/// `.gz` files are gunzipped in process (`DataFile`).
///
/// Errors are `DataReadError`s naming the file, the line, the question and the field. Refused: a missing or
/// unknown header (format name, version), invalid JSON, a missing or ill-typed field, a logit that is not a
/// finite float32 (NaN and infinities cannot be written in JSON; numbers past the float32 range can), start
/// and end logits whose counts differ from the offsets', an offset pair that is not `0 ≤ start ≤ end`, and a
/// question's window index given twice. Offsets past the end of the context are refused when the context is
/// known (`LogitsFileTeacher.score`).
public struct LogitsFile {
    public static let format = "mrc-distill-teacher-logits"
    public static let version = 1

    /// One teacher window of a question.
    public struct TeacherWindow: Sendable, Equatable {
        /// The window's index among its question's teacher windows (their order, not necessarily 0, 1, ...).
        public var window: Int
        /// The line of the file it came from (errors found later name it).
        public var line: Int
        /// Character range of each context token, Unicode-scalar indices, end exclusive.
        public var starts: [Int32]
        public var ends: [Int32]
        public var startLogits: [Float]
        public var endLogits: [Float]
        public var nullStartLogit: Float
        public var nullEndLogit: Float

        /// The characters from its first token's start to its last token's end (over tokens that cover at least
        /// one character); nil when it has none.
        public var characters: Range<Int>? {
            var lower = Int.max, upper = Int.min
            for (start, end) in zip(starts, ends) where start < end {
                lower = min(lower, Int(start))
                upper = max(upper, Int(end))
            }
            return lower < upper ? lower..<upper : nil
        }
    }

    /// The file as named in errors.
    public let file: String
    /// The header's `model` and `tokenizer`.
    public let model: String
    public let tokenizer: String
    /// Each question's teacher windows, by question id (`qid` on MRQA data), in window-index order.
    public let questions: [String: [TeacherWindow]]

    public var windowCount: Int { questions.values.reduce(0) { $0 + $1.count } }

    public static func read(_ url: URL) throws -> LogitsFile {
        var lines = try DataFile.lines(of: url)
        return try parse(&lines, file: url.path)
    }

    /// Parses the file's bytes (gunzipped); `file` names it in errors.
    public static func parse(_ data: Data, file: String) throws -> LogitsFile {
        var lines = LineReader(MemorySource(data, file: file))
        return try parse(&lines, file: file)
    }

    static func parse(_ lines: inout LineReader, file: String) throws -> LogitsFile {
        var header: (model: String, tokenizer: String)?
        var questions: [String: [TeacherWindow]] = [:]
        var firstLine: [String: [Int: Int]] = [:]
        while let (number, bytes) = try lines.next() {
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            var record = Record(object: [:], file: file, line: number, id: "")
            let value: Any
            do {
                value = try FoundationJSON.parse(bytes)
            } catch {
                throw record.error("", "not valid JSON at \(JSONSyntax.explain(Data(bytes), refusal: error, line: number))")
            }
            guard let object = value as? [String: Any] else {
                throw record.error("", "expected a JSON object, found \(JSONValues.describe(value))")
            }
            record.object = object
            if header == nil {
                header = try readHeader(record)
                continue
            }
            if object["header"] != nil { throw record.error("header", "a header is only allowed on the first line") }
            let id = try record.string("id")
            record.id = id
            guard !id.isEmpty else { throw record.error("id", "empty question id") }
            let window = try record.window()
            if let earlier = firstLine[id]?[window] {
                throw record.error("window", "window \(window) of this question is given twice (first on line \(earlier))")
            }
            firstLine[id, default: [:]][window] = number
            let (starts, ends) = try record.offsets()
            let startLogits = try record.floats("start_logits"), endLogits = try record.floats("end_logits")
            for (field, values) in [("start_logits", startLogits), ("end_logits", endLogits)] where values.count != starts.count {
                throw record.error(field, "\(values.count) logits for \(starts.count) offsets")
            }
            questions[id, default: []].append(TeacherWindow(
                window: window, line: number, starts: starts, ends: ends, startLogits: startLogits, endLogits: endLogits,
                nullStartLogit: try record.float("null_start_logit"), nullEndLogit: try record.float("null_end_logit")))
        }
        guard let header else { throw DataReadError(file: file, message: "empty: expected a header line and window records") }
        for id in questions.keys { questions[id]!.sort { $0.window < $1.window } }
        return LogitsFile(file: file, model: header.model, tokenizer: header.tokenizer, questions: questions)
    }

    static func readHeader(_ record: Record) throws -> (model: String, tokenizer: String) {
        guard let value = record.object["header"] else {
            throw record.error("header", "missing: the first line must be {\"header\": {\"format\": \"\(format)\", ...}}")
        }
        guard let object = value as? [String: Any] else {
            throw record.error("header", "expected an object, found \(JSONValues.describe(value))")
        }
        let header = Record(object: object, file: record.file, line: record.line, id: "", prefix: "header.")
        let name = try header.string("format")
        guard name == format else { throw header.error("format", "\(jsonStringLiteral(name)) is not \(format)") }
        let version = try header.int("version")
        guard version == Self.version else {
            throw header.error("version", "version \(version) is not supported (this build reads version \(Self.version))")
        }
        return (try header.string("model"), try header.string("tokenizer"))
    }

    /// One JSON object of the file and where it is, for errors that name file, line, question and field.
    struct Record {
        var object: [String: Any]
        let file: String
        let line: Int
        var id: String
        var prefix = ""

        func error(_ field: String, _ message: String) -> DataReadError {
            DataReadError(file: file, location: "line \(line)", field: field.isEmpty ? "" : prefix + field, recordId: id,
                          message: message)
        }

        func value(_ key: String) throws -> Any {
            guard let value = object[key], !(value is NSNull) else { throw error(key, "missing") }
            return value
        }

        func string(_ key: String) throws -> String {
            let value = try value(key)
            guard let string = value as? String else { throw error(key, "expected a string, found \(JSONValues.describe(value))") }
            return string
        }

        func int(_ key: String) throws -> Int { try Self.int(try value(key), field: key, in: self) }

        static func int(_ value: Any, field: String, in record: Record) throws -> Int {
            if let number = value as? NSNumber, !JSONValues.isBoolean(number), let int = Int(exactly: number.doubleValue) {
                return int
            }
            throw record.error(field, "expected an integer, found \(JSONValues.describe(value, showingValue: true))")
        }

        func window() throws -> Int {
            let window = try int("window")
            guard window >= 0 else { throw error("window", "negative window index \(window)") }
            return window
        }

        static func float(_ value: Any, field: String, in record: Record) throws -> Float {
            guard let number = value as? NSNumber, !JSONValues.isBoolean(number) else {
                throw record.error(field, "expected a number, found \(JSONValues.describe(value))")
            }
            let float = Float(number.doubleValue)
            guard float.isFinite else {
                throw record.error(field, "\(number) is not a finite float32 logit")
            }
            return float
        }

        func float(_ key: String) throws -> Float { try Self.float(try value(key), field: key, in: self) }

        func array(_ key: String) throws -> [Any] {
            let value = try value(key)
            guard let array = value as? [Any] else { throw error(key, "expected an array, found \(JSONValues.describe(value))") }
            return array
        }

        func floats(_ key: String) throws -> [Float] {
            try array(key).enumerated().map { try Self.float($1, field: "\(key)[\($0)]", in: self) }
        }

        func offsets() throws -> (starts: [Int32], ends: [Int32]) {
            let pairs = try array("offsets")
            var starts: [Int32] = [], ends: [Int32] = []
            starts.reserveCapacity(pairs.count)
            ends.reserveCapacity(pairs.count)
            for (index, pair) in pairs.enumerated() {
                let field = "offsets[\(index)]"
                guard let values = pair as? [Any], values.count == 2 else {
                    throw error(field, "expected a [start, end] pair, found \(JSONValues.describe(pair))")
                }
                let start = try Self.int(values[0], field: field, in: self), end = try Self.int(values[1], field: field, in: self)
                guard 0 <= start, start <= end, end <= Int(Int32.max) else {
                    throw error(field, "[\(start), \(end)] is not a character range (0 ≤ start ≤ end)")
                }
                starts.append(Int32(start))
                ends.append(Int32(end))
            }
            return (starts, ends)
        }
    }
}
