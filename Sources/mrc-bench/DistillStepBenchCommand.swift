import ArgumentParser
import Checkpoint
import Distillation
import Foundation
import Kernels
import Model
import Training

/// `mrc-bench distill-step`: what intermediate-layer distillation costs per step. A student made of the
/// model's layers 0,2,4 learns (a) soft labels alone, the plain distill step: forward, span + soft loss,
/// backward, AdamW; (b) the same plus an intermediate teacher (the whole model, map 1:2,2:4,3:6) with
/// hidden MSE and attention KL: the teacher's captured forward inside the step, the layer losses and their
/// gradients. Prints JSON with both timings and their ratio (the target is ≤ 1.6×).
struct DistillStepBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "distill-step",
        abstract: "Time a distillation step with and without intermediate-layer KD; print JSON."
    )

    @Option(help: "Model directory (all-MiniLM-L6-v2; `bash scripts/minilm-dir`): the teacher, and layers 0,2,4 the student.")
    var model: String
    @OptionGroup var shape: BenchShapeOptions
    @Option(help: "Untimed steps before timing each variant.") var warmup: Int = 1
    @Option(help: "Timed steps of each variant (they alternate).") var repeats: Int = 5
    @Option(help: "Precision of the matmuls (student and teacher): fp32 or bf16.") var precision: Precision = .bf16

    func run() throws {
        shape.applyThreads()
        let directory = URL(fileURLWithPath: model)
        let teacher = try ModelDirectory.load(directory, spanHead: .omit).model
        teacher.precision = precision
        let settings = IntermediateSettings(layerMap: try LayerMap.uniform(studentLayers: 3, teacherLayers: teacher.config.numHiddenLayers),
                                            hiddenWeight: 1, attentionWeight: 1)
        let student = try BertSpanTrainable(directory: directory, layers: [0, 2, 4], seed: 1)
        student.model.precision = precision
        let intermediate = try IntermediateDistillation(teacher: teacher, student: student.model, settings: settings)
        let (B, T) = (shape.batch, shape.seqLen)
        let batch = try EncoderBatch(batch: B, seqLen: T, inputIds: benchInputIds(batch: B, seqLen: T, vocab: teacher.config.vocabSize))
        var random = SeededGenerator(seed: 3)
        let teacherStart = (0..<(B * T)).map { _ in random.normal(std: 2) }, teacherEnd = (0..<(B * T)).map { _ in random.normal(std: 2) }
        let starts = (0..<B).map { Int32((7 * $0) % T) }, ends = (0..<B).map { Int32((7 * $0 + 5) % T) }
        let loss = DistillationLoss()
        let optimizer = AdamW(segments: try ParameterSegments(tensors: student.parameterRanges, total: student.parameterCount))
        var seed: UInt64 = 0
        func step(withIntermediate: Bool) throws {
            seed += 1
            let model = student.model
            model.zeroGradients()
            let logits = try model.forward(batch, dropoutSeed: seed)
            let result = try loss.compute(logits, attentionMask: batch.attentionMask, startPositions: starts, endPositions: ends,
                                          teacherStart: teacherStart, teacherEnd: teacherEnd,
                                          hasSoftLabel: [Bool](repeating: true, count: B))
            let extra = withIntermediate ? try intermediate.compute(student: model, batch: batch, lossScale: 1).gradients : nil
            model.backward(dStartLogits: result.dStartLogits, dEndLogits: result.dEndLogits, intermediate: extra)
            optimizer.update(parameters: student.parameters, gradients: student.gradients, learningRate: 1e-5)
        }
        for _ in 0..<warmup {
            try step(withIntermediate: false)
            try step(withIntermediate: true)
        }
        var plain: [Double] = [], layered: [Double] = []
        for _ in 0..<repeats {
            for withIntermediate in [false, true] {
                let start = DispatchTime.now().uptimeNanoseconds
                try step(withIntermediate: withIntermediate)
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
                if withIntermediate { layered.append(seconds) } else { plain.append(seconds) }
            }
        }
        let median = { (runs: [Double]) in runs.sorted()[runs.count / 2] }
        let ratios = zip(layered, plain).map { $0 / $1 }.sorted()
        let results: [String: Any] = [
            "engine": "swift mrc-distill", "threads": shape.threads, "batch": B, "seq_len": T, "precision": precision.rawValue,
            "student_layers": 3, "teacher_layers": teacher.config.numHiddenLayers, "layer_map": settings.layerMap.description,
            "plain_distill_step": ["median": median(plain), "runs": plain],
            "intermediate_distill_step": ["median": median(layered), "runs": layered],
            "ratio_median": median(layered) / median(plain), "ratio_min": ratios.first!, "ratio_max": ratios.last!,
            "low_precision": LowPrecision.summary,
        ]
        FileHandle.standardError.write(Data(String(format: "distill step (%d×%d, %@, 3 of %d layers): plain %.3f s, intermediate KD %.3f s (median of %d): %.2f× [%.2f–%.2f]\n",
                                                   B, T, precision.rawValue, teacher.config.numHiddenLayers, median(plain), median(layered), repeats,
                                                   median(layered) / median(plain), ratios.first!, ratios.last!).utf8))
        print(String(decoding: try JSONSerialization.data(withJSONObject: results, options: [.sortedKeys]), as: UTF8.self))
    }
}
