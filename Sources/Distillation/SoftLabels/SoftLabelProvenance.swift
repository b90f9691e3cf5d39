import Foundation

/// Where a soft-label store's labels come from and which student windows they fit: the JSON block of
/// the store's header (keys snake_case, written sorted; see `SoftLabelStoreFormat`).
///
/// `check(against:)` compares what must match the student and its data (vocabulary, lower_case,
/// window settings, data fingerprint, window count); teachers, combination, temperature and precision
/// are the store's content and are not compared.
public struct SoftLabelProvenance: Codable, Equatable, Sendable {
    /// How the teachers' scores were combined into the ensemble distribution.
    public enum Combination: String, Codable, Sendable {
        /// Weighted mean of the teachers' logits (log-probabilities for black-box teachers), then softmax.
        case meanLogits = "mean-logits"
        /// Weighted mean of the teachers' probabilities.
        case meanProbabilities = "mean-probabilities"
    }

    /// The 16-bit format of the stored log-probabilities.
    public enum Precision: String, Codable, Sendable {
        /// IEEE half: 11 significant bits (relative rounding ≤ 2⁻¹¹).
        case fp16
        /// bfloat16: Float's upper half, 8 significant bits (relative rounding ≤ 2⁻⁸).
        case bf16
    }

    /// One teacher of the ensemble.
    public struct TeacherEntry: Codable, Equatable, Sendable {
        public var name: String
        /// "model" or "black-box".
        public var kind: String
        public var fingerprint: String
        public var weight: Double
        /// The teacher's `counts` over the windows this file covers.
        public var counts: [String: Int]
        public var statistics: TeacherStatistics

        public init(name: String, kind: String, fingerprint: String, weight: Double, counts: [String: Int] = [:],
                    statistics: TeacherStatistics = TeacherStatistics()) {
            self.name = name
            self.kind = kind
            self.fingerprint = fingerprint
            self.weight = weight
            self.counts = counts
            self.statistics = statistics
        }
    }

    /// Which part of the windows a shard file holds. Absent in unsharded and merged files.
    public struct Shard: Codable, Equatable, Sendable {
        /// 1-based shard number, as on the command line (`--shard 2/4`).
        public var index: Int
        public var count: Int
        /// First window (0-based, in the student's window order) and number of windows held.
        public var firstWindow: Int
        public var windowCount: Int

        enum CodingKeys: String, CodingKey {
            case index, count
            case firstWindow = "first_window"
            case windowCount = "window_count"
        }

        public init(index: Int, count: Int, firstWindow: Int, windowCount: Int) {
            self.index = index
            self.count = count
            self.firstWindow = firstWindow
            self.windowCount = windowCount
        }
    }

    public var teachers: [TeacherEntry]
    public var combination: Combination
    public var temperature: Double
    public var precision: Precision
    /// Hash of the student's vocabulary (e.g. `fingerprint()` of vocab.txt).
    public var studentVocabHash: String
    public var lowerCase: Bool
    public var maxSeqLen: Int
    public var docStride: Int
    public var maxQueryLen: Int
    /// Fingerprint of the training data the windows were built from.
    public var dataFingerprint: String
    /// Number of windows of the whole data (also in a shard file).
    public var windowCount: Int
    public var shard: Shard?

    enum CodingKeys: String, CodingKey {
        case teachers, combination, temperature, precision, shard
        case studentVocabHash = "student_vocab_hash"
        case lowerCase = "lower_case"
        case maxSeqLen = "max_seq_len"
        case docStride = "doc_stride"
        case maxQueryLen = "max_query_len"
        case dataFingerprint = "data_fingerprint"
        case windowCount = "window_count"
    }

    public init(teachers: [TeacherEntry], combination: Combination, temperature: Double, precision: Precision,
                studentVocabHash: String, lowerCase: Bool, maxSeqLen: Int, docStride: Int, maxQueryLen: Int,
                dataFingerprint: String, windowCount: Int, shard: Shard? = nil) {
        self.teachers = teachers
        self.combination = combination
        self.temperature = temperature
        self.precision = precision
        self.studentVocabHash = studentVocabHash
        self.lowerCase = lowerCase
        self.maxSeqLen = maxSeqLen
        self.docStride = docStride
        self.maxQueryLen = maxQueryLen
        self.dataFingerprint = dataFingerprint
        self.windowCount = windowCount
        self.shard = shard
    }

    /// Number of records the file holds: the shard's windows, or all windows.
    public var recordCount: Int { shard?.windowCount ?? windowCount }

    /// The first field (in a fixed order) whose value differs from `expected`'s among those that tie a
    /// store to the student and its data, with both values; nil when all match.
    public func mismatch(with expected: SoftLabelProvenance) -> (field: String, stored: String, expected: String)? {
        let fields: [(String, String, String)] = [
            ("student_vocab_hash", studentVocabHash, expected.studentVocabHash),
            ("lower_case", "\(lowerCase)", "\(expected.lowerCase)"),
            ("max_seq_len", "\(maxSeqLen)", "\(expected.maxSeqLen)"),
            ("doc_stride", "\(docStride)", "\(expected.docStride)"),
            ("max_query_len", "\(maxQueryLen)", "\(expected.maxQueryLen)"),
            ("data_fingerprint", dataFingerprint, expected.dataFingerprint),
            ("window_count", "\(windowCount)", "\(expected.windowCount)"),
        ]
        return fields.first { $0.1 != $0.2 }.map { (field: $0.0, stored: $0.1, expected: $0.2) }
    }

    /// The canonical JSON of the header: sorted keys, no whitespace, `shard` omitted when nil.
    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self))
    }
}
