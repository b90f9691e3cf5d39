import Foundation

/// One line of the metrics log.
public struct StepMetrics: Codable, Sendable, Equatable {
    public var step: Int
    public var epoch: Int
    public var loss: Double
    public var learningRate: Double
    public var gradientNorm: Double
    /// Real (unpadded) tokens per second of wall time over this step.
    public var tokensPerSecond: Double
    public var elapsedSeconds: Double
    /// The task of the step when several are mixed ("mrc", "mlm"); absent for plain fine-tuning.
    public var task: String?
    /// The loss terms of the step (e.g. "hard", "soft" for distillation), absent when the loss is one term.
    public var terms: [String: Double]?

    public init(step: Int, epoch: Int, loss: Double, learningRate: Double, gradientNorm: Double,
                tokensPerSecond: Double, elapsedSeconds: Double, task: String? = nil, terms: [String: Double]? = nil) {
        self.step = step; self.epoch = epoch; self.loss = loss; self.learningRate = learningRate
        self.gradientNorm = gradientNorm; self.tokensPerSecond = tokensPerSecond; self.elapsedSeconds = elapsedSeconds
        self.task = task; self.terms = terms
    }

    enum CodingKeys: String, CodingKey {
        case step, epoch, loss, task, terms
        case learningRate = "learning_rate"
        case gradientNorm = "grad_norm"
        case tokensPerSecond = "tokens_per_s"
        case elapsedSeconds = "elapsed_s"
    }
}

/// The JSON-lines metrics log (`metrics.jsonl`): one object per optimizer step, flushed per line,
/// so a killed run leaves every completed step on disk.
public final class MetricsLog {
    public let url: URL
    private let handle: FileHandle
    private let encoder: JSONEncoder

    /// Opens the log. With `keepingStepsThrough: s`, lines of steps after `s` are dropped first —
    /// a resumed run repeats those steps from its checkpoint and must not log them twice.
    public init(url: URL, keepingStepsThrough lastKeptStep: Int? = nil) throws {
        self.url = url
        let manager = FileManager.default
        if let lastKeptStep, manager.fileExists(atPath: url.path) {
            let text = try String(contentsOf: url, encoding: .utf8)
            let decoder = MetricsLog.decoder()
            var kept = ""
            for line in text.split(separator: "\n") {
                guard let record = try? decoder.decode(StepMetrics.self, from: Data(line.utf8)) else { continue }
                if record.step <= lastKeptStep { kept += line + "\n" }
            }
            try Data(kept.utf8).write(to: url, options: .atomic)
        } else if lastKeptStep == nil || !manager.fileExists(atPath: url.path) {
            guard manager.createFile(atPath: url.path, contents: nil) else {
                throw TrainingError.io("cannot create the metrics log \(url.path)")
            }
        }
        guard let handle = try? FileHandle(forWritingTo: url) else {
            throw TrainingError.io("cannot open the metrics log \(url.path) for writing")
        }
        try handle.seekToEnd()
        self.handle = handle
        encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    }

    deinit { try? handle.close() }

    public func append(_ metrics: StepMetrics) throws {
        var line = try encoder.encode(metrics)
        line.append(0x0A)
        try handle.write(contentsOf: line)
    }

    private static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return decoder
    }

    /// Reads every record of a metrics log (tests, reports).
    public static func read(_ url: URL) throws -> [StepMetrics] {
        let text = try String(contentsOf: url, encoding: .utf8)
        let decoder = MetricsLog.decoder()
        return try text.split(separator: "\n").enumerated().map { index, line in
            do { return try decoder.decode(StepMetrics.self, from: Data(line.utf8)) } catch {
                throw TrainingError.invalidState("\(url.path) line \(index + 1) is not a metrics record: \(error)")
            }
        }
    }
}
