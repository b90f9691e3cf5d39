import ArgumentParser
import Checkpoint
import Distillation
import Foundation
import Model
import Training

/// `distill`'s intermediate-layer distillation: an intermediate teacher whose hidden states and attention
/// the student learns, online, beside the soft labels (docs/DISTILLATION.md#intermediate-layers).
struct IntermediateOptions: ParsableArguments {
    @Option(name: .customLong("intermediate-teacher"),
            help: "A model directory whose hidden states and attention the student learns (same vocabulary; it may differ from the soft-label teachers).")
    var teacher: String?
    @Option(name: .customLong("layer-map"),
            help: "student:teacher encoder layers, numbered from 1, e.g. 1:2,2:4,3:6 (default: uniform, last layer to last layer).")
    var layerMap: String?
    @Option(name: .customLong("hidden-mse"), help: "Weight of the hidden-state MSE (projected when the widths differ); default 0.")
    var hiddenMSE: Double = 0
    @Option(name: .customLong("attention-kl"), help: "Weight of the attention KL per head over real tokens; default 0.")
    var attentionKL: Double = 0
    @Option(name: .customLong("embedding-mse"), help: "Weight of the MSE of the embeddings' output; default 0.")
    var embeddingMSE: Double = 0

    var isActive: Bool { hiddenMSE > 0 || attentionKL > 0 || embeddingMSE > 0 }

    func validate() throws {
        for (name, value) in [("--hidden-mse", hiddenMSE), ("--attention-kl", attentionKL), ("--embedding-mse", embeddingMSE)] {
            guard value >= 0, value.isFinite else { throw ValidationError("\(name) must be a finite weight ≥ 0, not \(value)") }
        }
        if isActive, teacher == nil {
            throw ValidationError("--hidden-mse, --attention-kl and --embedding-mse need --intermediate-teacher DIR")
        }
        if layerMap != nil, teacher == nil { throw ValidationError("--layer-map needs --intermediate-teacher DIR") }
        if let teacher {
            _ = try Preflight.checkModel(URL(fileURLWithPath: teacher))
        }
    }

    /// The settings for a student of `studentConfig` (after any layer selection), nil when no weight is
    /// positive (then the run is plain distill, whatever --intermediate-teacher says).
    func settings(studentConfig: BertConfig) throws -> (settings: IntermediateSettings, teacherConfig: BertConfig)? {
        guard isActive, let teacher else { return nil }
        let teacherConfig = try BertConfig.load(from: URL(fileURLWithPath: teacher).appendingPathComponent("config.json"))
        let map = try layerMap.map {
            try LayerMap(parsing: $0, studentLayers: studentConfig.numHiddenLayers, teacherLayers: teacherConfig.numHiddenLayers)
        } ?? LayerMap.uniform(studentLayers: studentConfig.numHiddenLayers, teacherLayers: teacherConfig.numHiddenLayers)
        let settings = IntermediateSettings(layerMap: map, hiddenWeight: Float(hiddenMSE), attentionWeight: Float(attentionKL),
                                            embeddingWeight: Float(embeddingMSE))
        return (settings, teacherConfig)
    }

    /// Loads the intermediate teacher for `student` (built with `settings.projections`): same vocabulary and
    /// lower-casing, the student's matmul precision.
    func load(_ settings: IntermediateSettings, student: BertSpanTrainable) throws -> IntermediateDistillation {
        let directory = URL(fileURLWithPath: teacher!)
        let loaded = try ModelDirectory.load(directory, spanHead: .omit)
        guard loaded.vocabulary == student.vocabulary else {
            throw DistillationError("--intermediate-teacher \(directory.path): its vocab.txt differs from the student's; the teacher must read the student's windows")
        }
        if let lower = loaded.doLowerCase, lower != student.doLowerCase {
            throw DistillationError("--intermediate-teacher \(directory.path): do_lower_case \(lower), the student's \(student.doLowerCase)")
        }
        loaded.model.precision = student.model.precision
        return try IntermediateDistillation(teacher: loaded.model, student: student.model, settings: settings)
    }
}
