import Checkpoint

/// One activation arena and low-precision scratch that several inference-only models of the same
/// dimensions use in turn: the members of an ensemble run one after another, and an inference forward
/// leaves nothing in the arena that the next one needs (the logits are copied out). Four 3-layer
/// MiniLM members in `serve` then hold 4 × their weights plus one arena, not four arenas.
///
/// A model on a shared arena refuses a training forward (its saved activations would be overwritten by
/// the next member's forward before its backward).
public final class InferenceArena {
    let dimensions: ModelDimensions
    let activations: Activations
    let scratch: LowPrecisionScratch

    /// An empty arena for models shaped as `config`; it grows with the largest batch any of them runs.
    public init(config: BertConfig) {
        dimensions = ModelDimensions(config: config)
        activations = Activations(config: dimensions)
        scratch = LowPrecisionScratch(channels: config.hiddenSize, intermediate: config.intermediateSize)
    }

    /// Whether a model shaped as `config` can run on this arena (same width, heads and depth).
    public func fits(_ config: BertConfig) -> Bool { ModelDimensions(config: config) == dimensions }

    /// Gives the models one arena per distinct shape (models of one shape share it); the arenas.
    @discardableResult
    public static func share(among models: [BertModel]) -> [InferenceArena] {
        var arenas: [InferenceArena] = []
        for model in models {
            let arena = arenas.first { $0.fits(model.config) } ?? {
                let arena = InferenceArena(config: model.config)
                arenas.append(arena)
                return arena
            }()
            model.useInferenceArena(arena)
        }
        return arenas
    }
}

extension BertModel {
    /// Runs this model's inference forwards on `arena`, shared with other models of its shape, instead
    /// of its own buffers (which are freed). From then on a training forward is refused.
    public func useInferenceArena(_ arena: InferenceArena) {
        precondition(arena.fits(config), "an inference arena serves models of one shape only")
        saved = nil
        activations = arena.activations
        lowPrecisionScratch = arena.scratch
        sharesInferenceArena = true
    }
}
