import Kernels

/// The converted weights a low-precision forward reads, made from the fp32 masters when first needed and
/// again when stale: the plain bf16/int8 copies (`LowPrecisionWeights`), the packed bf16 weights of the fused
/// layers (`PackedWeights`) or the static int8 weights (`StaticInt8Weights`). One kind is kept at a time.
extension BertModel {
    /// Drops every converted weight (a change of precision or calibration).
    func dropConvertedWeights() {
        (lowPrecisionWeights, packedWeights, staticInt8Weights) = (nil, nil, nil)
        lowPrecisionStale = true
    }

    /// The converted weights for this forward (nil in fp32), converted again when stale; a training
    /// forward leaves them stale for the next one (the optimizer will change the masters).
    func prepareLowPrecision(tokens: Int, forTraining: Bool) -> LowPrecisionWeights? {
        guard precision != .fp32 else { return nil }
        // A training forward keeps its packed copies (`prepareTrainingPacked` packs them again).
        if !forTraining { packedWeights = nil }
        staticInt8Weights = nil
        let weights = lowPrecisionWeights ?? LowPrecisionWeights(layout: layout, precision: precision)
        if lowPrecisionWeights == nil || lowPrecisionStale || forTraining {
            weights.refresh(from: parameters.pointer)
        }
        lowPrecisionWeights = weights
        lowPrecisionStale = forTraining
        lowPrecisionScratch.reserve(tokens: tokens)
        return weights
    }

    /// The bf16 training layer's forward weights (`encoderLayerForwardTrainingBF16`), packed again at each step from
    /// the plain copies `prepareLowPrecision` just made (which its backward reads); nil where there is no packed layout.
    func prepareTrainingPacked(from plain: LowPrecisionWeights) -> [FusedLayerWeights]? {
        // Packed weights made under oneDNN are not read by the reference backend (tests switch it): dropped.
        guard LowPrecision.backend == .onednn else { packedWeights = nil; return nil }
        if let packedWeights {
            packedWeights.repack(from: plain)
        } else {
            packedWeights = PackedWeights(packing: plain, config: ModelDimensions(config: config))
        }
        return packedWeights?.layers
    }

    /// The bf16 weights of the fused inference layers: packed once for oneDNN (the plain copies freed), or
    /// the plain ones where this CPU or backend has no packed layout.
    func prepareFused(tokens: Int) -> [FusedLayerWeights] {
        // Only oneDNN reads packed weights: a switch to the reference backend (tests do it) unpacks.
        if let packedWeights, !lowPrecisionStale, LowPrecision.backend == .onednn {
            lowPrecisionScratch.reserve(tokens: tokens)
            return packedWeights.layers
        }
        let plain = prepareLowPrecision(tokens: tokens, forTraining: false)!
        guard let packed = PackedWeights(packing: plain, config: ModelDimensions(config: config)) else {
            return plain.layers.map(FusedLayerWeights.init(plain:))
        }
        packedWeights = packed
        lowPrecisionWeights = nil
        return packed.layers
    }

    /// The static int8 weights for `calibration`, made again when the masters changed (or the backend, which
    /// decides whether they are packed: tests switch it).
    func prepareStaticInt8(tokens: Int, calibration: Int8Calibration) throws -> StaticInt8Weights {
        lowPrecisionScratch.reserve(tokens: tokens)
        if let staticInt8Weights, !lowPrecisionStale, staticInt8Weights.backend == LowPrecision.backend { return staticInt8Weights }
        let weights = try StaticInt8Weights(parameters: parameters.pointer, layout: layout, calibration: calibration)
        (lowPrecisionWeights, packedWeights, staticInt8Weights) = (nil, nil, weights)
        lowPrecisionStale = false
        return weights
    }
}
