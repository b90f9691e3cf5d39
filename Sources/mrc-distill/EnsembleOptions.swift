import ArgumentParser
import Foundation
import Kernels
import Model
import Text
import Training

/// The model `predict` and `score` answer with: one directory, or an ensemble of several (`--model`
/// repeated, `[NAME=]DIR[:WEIGHT]` as `teach --teacher`), with the layers, weights file and combination.
struct EnsembleOptions: ParsableArguments {
    @Option(name: .customLong("model"), help: ArgumentHelp(
        "[NAME=]DIR[:WEIGHT]: a model directory in the Hugging Face layout; repeat it for an ensemble, whose members "
        + "must share vocab.txt and lower-casing.", valueName: "dir"))
    var models: [String] = []
    @Option(name: .long, help: "Keep only these encoder layers of every member, e.g. 0,2,4.") var layers: String?
    @Flag(name: .long, help: "Use the EMA weights (ema.safetensors) instead of the raw weights.") var ema = false
    @Option(help: "How an ensemble's members combine: mean-logits (raw logits, the default) or mean-probabilities.")
    var combine = "mean-logits"

    var weightsFile: String { ema ? "ema.safetensors" : "model.safetensors" }

    func members() throws -> [MemberSpec] { try models.map { try MemberSpec($0, option: "--model") } }

    /// Checks the members' directories and the combination before anything is loaded.
    func validate(maxSequenceLength: Int) throws {
        guard EnsembleScorer.Combination(rawValue: combine) != nil else {
            throw ValidationError("--combine must be \(EnsembleScorer.Combination.allCases.map(\.rawValue).joined(separator: " or ")), not \(combine)")
        }
        try refuse {
            for member in try members() {
                _ = try Preflight.checkModel(URL(fileURLWithPath: member.path), maxSequenceLength: maxSequenceLength,
                                             layers: try layers.map(Preflight.parseLayers), weightsFile: weightsFile)
            }
        }
    }

    /// Loads every member (in `precision`, `batchSize` windows per forward pass) into one scorer.
    func load(precision: Precision, batchSize: Int) throws -> LoadedScorer {
        let specs = try members()
        guard !specs.isEmpty else { throw ValidationError("give --model DIR (repeat it for an ensemble)") }
        var scorers: [ModelScorer] = [], identities: [String] = [], untrained: [String] = []
        var tokenizer: (any Tokenizer)?
        for spec in specs {
            let directory = URL(fileURLWithPath: spec.path)
            let trainable = try BertSpanTrainable(directory: directory, layers: try layers.map(Preflight.parseLayers),
                                                  weightsFile: ema ? "ema.safetensors" : nil)
            if !trainable.initialised.isEmpty { untrained.append(spec.path) }
            try trainable.model.usePrecision(precision, modelDirectory: directory)
            let own = trainable.tokenizer
            if let first = tokenizer, !first.tokenisesLike(own) {
                throw ValidationError("--model \(spec.path) has another tokenizer than \(specs[0].path) (the vocabulary, merges or "
                                      + "lower-casing differ); an ensemble's members must read the same windows")
            }
            tokenizer = tokenizer ?? own
            scorers.append(try ModelScorer(model: trainable.model, batchSize: batchSize))
            identities.append(Predictor.identity(of: directory.appendingPathComponent(weightsFile)) + " w \(spec.weight)"
                              + (trainable.model.int8Calibration == nil ? ""
                                 : " \(Int8Calibration.scheme) " + Predictor.identity(of: directory.appendingPathComponent(Int8Calibration.fileName))))
        }
        ModelScorer.shareInferenceArena(scorers)
        let scorer: SpanScorer = scorers.count == 1 && specs[0].weight == 1 ? scorers[0]
            : try EnsembleScorer(members: scorers, weights: specs.map(\.weight),
                                 combination: EnsembleScorer.Combination(rawValue: combine)!)
        let fingerprint = (identities + [layers ?? "all", precision.rawValue, scorers.count > 1 ? combine : ""]).joined(separator: "|")
        return LoadedScorer(scorer: scorer, tokenizer: tokenizer!, fingerprint: fingerprint, untrainedHeads: untrained)
    }
}

/// A model or an ensemble ready to predict: its scorer, the tokenizer its windows need, and what its
/// predictions depend on (weights files, layers, precision, combination: the journal's fingerprint).
struct LoadedScorer {
    var scorer: SpanScorer
    var tokenizer: any Tokenizer
    var fingerprint: String
    /// Members without a trained span head (predicting with an untrained one).
    var untrainedHeads: [String]

    func predictor(windows: WindowOptions) throws -> Predictor {
        try Predictor(scorer: scorer, tokenizer: tokenizer, windowSettings: windows.windowSettings,
                      decoderSettings: windows.decoderSettings)
    }
}
