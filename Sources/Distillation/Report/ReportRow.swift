import Foundation

/// One row of the distillation ablation: a teacher, an ensemble of teachers, or a student, with its
/// scores and costs. One JSON object per line of `rows.jsonl` (written by the recipe script), with
/// snake_case keys:
///
/// `{"name", "kind": "teacher"|"student", "command", "squad_em", "squad_f1", "in_domain_f1": {dataset: f1},
///   "ood_f1": {dataset: f1}, "parameters", "tokens_per_second", "seconds_per_1k_questions", "teach_seconds",
///   "distill_seconds", "model", "metrics", "notes", "has_ans_f1", "no_ans_f1", "best_f1", "no_ans_share",
///   "null_score_threshold"}`
///
/// `name`, `kind`, `command`, `squad_em` and `squad_f1` (the first in-domain dataset's scores) are
/// required; every other key may be absent or null (`in_domain_f1` and `ood_f1` then read as empty).
/// A row with several in-domain datasets (MRQA's protocol) has them all in `in_domain_f1`. Scores are
/// percentages, as the official scripts print them.
/// The last five keys are a SQuAD 2.0 row's (the first in-domain dataset has unanswerable questions): HasAns and
/// NoAns F1 and the share of questions answered "no answer" (percent) at the null-score threshold the answers
/// were decided at, and the official best F1 over thresholds.
/// Numbers may also be the strings "nan", "inf" and "-inf" (as `metrics.jsonl` writes them).
public struct ReportRow: Codable, Sendable, Equatable {
    /// The no-answer columns of a SQuAD 2.0 row.
    public struct SQuAD2Scores: Sendable, Equatable {
        public var hasAnswerF1: Double?
        public var noAnswerF1: Double?
        public var bestF1: Double?
        /// Percent of the questions answered "no answer" at `nullScoreThreshold`.
        public var noAnswerShare: Double?
        public var nullScoreThreshold: Double?

        public init(hasAnswerF1: Double?, noAnswerF1: Double?, bestF1: Double?, noAnswerShare: Double?,
                    nullScoreThreshold: Double?) {
            self.hasAnswerF1 = hasAnswerF1; self.noAnswerF1 = noAnswerF1; self.bestF1 = bestF1
            self.noAnswerShare = noAnswerShare; self.nullScoreThreshold = nullScoreThreshold
        }
    }

    public enum Kind: String, Codable, Sendable {
        case teacher
        case student
    }

    public var name: String
    public var kind: Kind
    /// The command that produced this row's predictions.
    public var command: String
    /// SQuAD dev exact match and F1 (percent).
    public var squadEM: Double
    public var squadF1: Double
    /// In-domain F1 (percent) per dataset name (empty: the SQuAD dev F1 alone is the in-domain score).
    public var inDomainF1: [String: Double]
    /// Out-of-domain F1 (percent) per dataset name.
    public var oodF1: [String: Double]
    public var parameters: Int?
    /// Inference speed, real tokens per second.
    public var tokensPerSecond: Double?
    /// Inference cost: wall seconds per 1,000 questions, end to end (windows, forward, decoding).
    public var secondsPer1kQuestions: Double?
    /// Wall time of scoring the training data with the teachers.
    public var teachSeconds: Double?
    /// Wall time of training the student.
    public var distillSeconds: Double?
    /// The model directory, if any.
    public var model: String?
    /// The run's `metrics.jsonl`; a relative path is taken relative to the rows file's folder.
    public var metrics: String?
    public var notes: String?
    /// SQuAD 2.0 rows only.
    public var squad2: SQuAD2Scores?

    public init(name: String, kind: Kind, command: String, squadEM: Double, squadF1: Double,
                inDomainF1: [String: Double] = [:], oodF1: [String: Double] = [:], parameters: Int? = nil,
                tokensPerSecond: Double? = nil, secondsPer1kQuestions: Double? = nil,
                teachSeconds: Double? = nil, distillSeconds: Double? = nil, model: String? = nil,
                metrics: String? = nil, notes: String? = nil) {
        self.name = name; self.kind = kind; self.command = command
        self.squadEM = squadEM; self.squadF1 = squadF1; self.inDomainF1 = inDomainF1; self.oodF1 = oodF1
        self.parameters = parameters; self.tokensPerSecond = tokensPerSecond; self.secondsPer1kQuestions = secondsPer1kQuestions
        self.teachSeconds = teachSeconds; self.distillSeconds = distillSeconds
        self.model = model; self.metrics = metrics; self.notes = notes
    }

    enum CodingKeys: String, CodingKey {
        case name, kind, command, parameters, model, metrics, notes
        case squadEM = "squad_em"
        case squadF1 = "squad_f1"
        case inDomainF1 = "in_domain_f1"
        case oodF1 = "ood_f1"
        case tokensPerSecond = "tokens_per_second"
        case secondsPer1kQuestions = "seconds_per_1k_questions"
        case teachSeconds = "teach_seconds"
        case distillSeconds = "distill_seconds"
        case hasAnswerF1 = "has_ans_f1"
        case noAnswerF1 = "no_ans_f1"
        case bestF1 = "best_f1"
        case noAnswerShare = "no_ans_share"
        case nullScoreThreshold = "null_score_threshold"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        kind = try container.decode(Kind.self, forKey: .kind)
        command = try container.decode(String.self, forKey: .command)
        squadEM = try container.decode(Double.self, forKey: .squadEM)
        squadF1 = try container.decode(Double.self, forKey: .squadF1)
        inDomainF1 = try container.decodeIfPresent([String: Double].self, forKey: .inDomainF1) ?? [:]
        oodF1 = try container.decodeIfPresent([String: Double].self, forKey: .oodF1) ?? [:]
        parameters = try container.decodeIfPresent(Int.self, forKey: .parameters)
        tokensPerSecond = try container.decodeIfPresent(Double.self, forKey: .tokensPerSecond)
        secondsPer1kQuestions = try container.decodeIfPresent(Double.self, forKey: .secondsPer1kQuestions)
        teachSeconds = try container.decodeIfPresent(Double.self, forKey: .teachSeconds)
        distillSeconds = try container.decodeIfPresent(Double.self, forKey: .distillSeconds)
        model = try container.decodeIfPresent(String.self, forKey: .model)
        metrics = try container.decodeIfPresent(String.self, forKey: .metrics)
        notes = try container.decodeIfPresent(String.self, forKey: .notes)
        let v2 = SQuAD2Scores(hasAnswerF1: try container.decodeIfPresent(Double.self, forKey: .hasAnswerF1),
                              noAnswerF1: try container.decodeIfPresent(Double.self, forKey: .noAnswerF1),
                              bestF1: try container.decodeIfPresent(Double.self, forKey: .bestF1),
                              noAnswerShare: try container.decodeIfPresent(Double.self, forKey: .noAnswerShare),
                              nullScoreThreshold: try container.decodeIfPresent(Double.self, forKey: .nullScoreThreshold))
        let values = [v2.hasAnswerF1, v2.noAnswerF1, v2.bestF1, v2.noAnswerShare, v2.nullScoreThreshold]
        squad2 = values.contains { $0 != nil } ? v2 : nil
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(kind, forKey: .kind)
        try container.encode(command, forKey: .command)
        try container.encode(squadEM, forKey: .squadEM)
        try container.encode(squadF1, forKey: .squadF1)
        try container.encode(inDomainF1, forKey: .inDomainF1)
        try container.encode(oodF1, forKey: .oodF1)
        try container.encodeIfPresent(parameters, forKey: .parameters)
        try container.encodeIfPresent(tokensPerSecond, forKey: .tokensPerSecond)
        try container.encodeIfPresent(secondsPer1kQuestions, forKey: .secondsPer1kQuestions)
        try container.encodeIfPresent(teachSeconds, forKey: .teachSeconds)
        try container.encodeIfPresent(distillSeconds, forKey: .distillSeconds)
        try container.encodeIfPresent(model, forKey: .model)
        try container.encodeIfPresent(metrics, forKey: .metrics)
        try container.encodeIfPresent(notes, forKey: .notes)
        try container.encodeIfPresent(squad2?.hasAnswerF1, forKey: .hasAnswerF1)
        try container.encodeIfPresent(squad2?.noAnswerF1, forKey: .noAnswerF1)
        try container.encodeIfPresent(squad2?.bestF1, forKey: .bestF1)
        try container.encodeIfPresent(squad2?.noAnswerShare, forKey: .noAnswerShare)
        try container.encodeIfPresent(squad2?.nullScoreThreshold, forKey: .nullScoreThreshold)
    }

    /// The out-of-domain datasets in a stable order (sorted by name).
    public var oodDatasets: [String] { oodF1.keys.sorted() }

    /// The unweighted mean of the finite out-of-domain F1 values (MRQA's macro-average); nil if none.
    public var oodMacroF1: Double? { Self.macro(oodF1) }

    /// The in-domain macro-F1: the mean over `in_domain_f1`, or the SQuAD dev F1 when that is empty.
    public var inDomainMacroF1: Double { Self.macro(inDomainF1) ?? squadF1 }

    static func macro(_ f1: [String: Double]) -> Double? {
        let values = f1.values.filter(\.isFinite)
        guard !values.isEmpty else { return nil }
        return values.reduce(0, +) / Double(values.count)
    }
}
