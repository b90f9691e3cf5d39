import Checkpoint
import Foundation
import Kernels
import MRC
import Model
import Text
import Training

/// A teacher that is a span-QA model in the Hugging Face layout (ours from `train`/`distill`, or any
/// BERT QA directory with its own vocab.txt, cased or uncased), run batched at the engine's
/// inference speed.
///
/// With the student's tokenizer (same vocabulary and lower-casing) the teacher reads the student's
/// windows as they are, and its logits are the soft labels. With another tokenizer, each student
/// window is re-tokenised for the teacher — in its own pair template, `[CLS]` question `[SEP]` the same characters
/// of context `[SEP]` (RoBERTa: `<s> q </s></s> c </s>`) — and the logits come back through character offsets
/// (`CharacterAlignment`): a student context token gets the
/// teacher's start logit of the teacher token that starts at the same character, and the end logit
/// of the teacher token that ends at the same character. Where no teacher token starts (ends) there —
/// the teacher splits the text differently, so it cannot start (end) an answer at that point — the
/// student token gets no probability (`SpanLoss.paddingLogit`), as do the question tokens and
/// `[SEP]`s; `[CLS]` takes the teacher's `[CLS]` logit. Teacher windows longer than its position
/// table are cut at the end (counted in `windows_cut`).
///
/// Windows are batched only within blocks of `SoftLabelShard.blockSize` counted from the first window
/// given: `Teaching` hands over chunks that start on a block boundary of the whole data, so each
/// window's logits are bit-identical whether the data is scored whole or in shards.
public final class ModelTeacher: Teacher {
    public let name: String
    public let kind = "model"
    public let fingerprint: String
    public let model: BertModel
    public let tokenizer: any Tokenizer
    public let batchSize: Int
    public private(set) var counts: [String: Int] = [:]
    /// The tokenizer of the student whose windows the teacher scores.
    public let studentTokenizer: any Tokenizer

    /// Loads `directory` (it must have a span head and vocab.txt); `weightsFile` picks another weights
    /// file of the directory (e.g. ema.safetensors).
    /// `precision` is the number format of the teacher's matmuls; a teacher in bf16 or int8 gives
    /// other soft labels than in fp32, so it is part of the fingerprint.
    public init(directory: URL, studentTokenizer: any Tokenizer, name: String? = nil, weightsFile: String? = nil,
                batchSize: Int = 32, precision: Precision = .fp32) throws {
        let trainable = try BertSpanTrainable(directory: directory, dropout: 0, weightsFile: weightsFile)
        guard trainable.initialised.isEmpty else {
            throw TrainingError.invalidArgument("teacher \(directory.path) has no span head (qa_outputs): train it first")
        }
        model = trainable.model
        try model.usePrecision(precision, modelDirectory: directory)
        tokenizer = trainable.tokenizer
        self.name = name ?? directory.lastPathComponent
        self.batchSize = batchSize
        self.studentTokenizer = studentTokenizer
        let weights = directory.appendingPathComponent(weightsFile ?? "model.safetensors")
        let attributes = try? FileManager.default.attributesOfItem(atPath: weights.path)
        let size = (attributes?[.size] as? NSNumber)?.intValue ?? 0
        // The weights' bytes are hashed (a 90 MB file takes a fraction of a second).
        let bytes = (try? Data(contentsOf: weights, options: .alwaysMapped)) ?? Data()
        // Static int8 scales change the soft labels too: their file's bytes join the fingerprint.
        let calibration = model.int8Calibration == nil ? nil
            : try? Data(contentsOf: directory.appendingPathComponent(Int8Calibration.fileName))
        fingerprint = Self.hash(bytes) + "-\(size)" + (precision == .fp32 ? "" : "-\(precision)")
            + (calibration.map { "-\(Int8Calibration.scheme)-" + Self.hash($0) } ?? "")
    }

    /// Whether the teacher reads the student's token ids as they are.
    public func sharesTokenizer(with student: any Tokenizer) -> Bool {
        student.tokenisesLike(tokenizer)
    }

    public func score(examples: [MRCExample], windows: [Window], progress: (Int) -> Void) throws -> [TeacherScores?] {
        let predictor = try Predictor(model: model, tokenizer: tokenizer, windowSettings: WindowSettings(maxSeqLen: 512),
                                      decoderSettings: SpanDecoderSettings(), batchSize: batchSize)
        if sharesTokenizer(with: studentTokenizer) {
            counts["windows_same_tokenizer", default: 0] += windows.count
            return try predictor.scores(windows, block: SoftLabelShard.blockSize, progress: progress).map {
                TeacherScores(kind: .logits, start: $0.startLogits, end: $0.endLogits)
            }
        }
        let mapping = CrossTokenizerMapping(teacher: tokenizer, maxLength: min(512, model.config.maxSequenceLength))
        let teacherWindows = mapping.teacherWindows(for: windows, examples: examples)
        counts["windows_cut", default: 0] += teacherWindows.filter(\.cut).count
        let scores = try predictor.scores(teacherWindows.map(\.window), block: SoftLabelShard.blockSize, progress: progress)
        return windows.indices.map { i in
            mapping.studentScores(windows[i], teacher: teacherWindows[i], scores: scores[i]) as TeacherScores?
        }
    }

    static func hash(_ data: Data) -> String {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        data.withUnsafeBytes { raw in
            // 8 bytes at a time: FNV-1a over 64-bit words (a fingerprint, not a security hash).
            let words = raw.count / 8
            for i in 0..<words {
                hash ^= raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)
                hash &*= 0x0000_0100_0000_01B3
            }
            for i in (words * 8)..<raw.count {
                hash ^= UInt64(raw[i])
                hash &*= 0x0000_0100_0000_01B3
            }
        }
        return String(hash, radix: 16)
    }
}
