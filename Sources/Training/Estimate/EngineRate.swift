import Checkpoint
import Foundation
import Kernels
import Model

/// What this machine's engine does per FLOP for one model shape, precision and batch rows: seconds per
/// GFLOP of an inference forward and of a training pass (forward + backward, dropout on), each measured
/// at two padded lengths (the run's longest and half of it) and interpolated linearly in the length
/// between them (short batches use the matrix units less well: on an Intel Xeon with AMX, a 3-layer
/// MiniLM trains at about two thirds of its 384-token rate at 128 tokens); and the seconds of one
/// optimizer update (zeroing the gradients, the gradient norm, AdamW) per million parameters.
public struct EngineRate: Codable, Sendable, Equatable {
    public struct Point: Codable, Sendable, Equatable {
        public var seqLen: Int
        public var secondsPerGFLOP: Double
        public init(seqLen: Int, secondsPerGFLOP: Double) { self.seqLen = seqLen; self.secondsPerGFLOP = secondsPerGFLOP }
    }

    public var inference: [Point]
    public var training: [Point]?
    public var optimizerSecondsPerMillionParameters: Double?
    /// One EMA update of the weights, per million parameters.
    public var emaSecondsPerMillionParameters: Double?
    /// Where the figures came from: "measured <date>" or "cached, measured <date>".
    public var measured: String

    public init(inference: [Point], training: [Point]? = nil, optimizerSecondsPerMillionParameters: Double? = nil,
                emaSecondsPerMillionParameters: Double? = nil, measured: String) {
        self.inference = inference
        self.training = training
        self.optimizerSecondsPerMillionParameters = optimizerSecondsPerMillionParameters
        self.emaSecondsPerMillionParameters = emaSecondsPerMillionParameters
        self.measured = measured
    }

    /// Seconds of `flops` at batches padded to `seqLen` (training passes or inference forwards).
    public func seconds(flops: Double, seqLen: Int, training isTraining: Bool) -> Double {
        let points = (isTraining ? training : inference) ?? inference
        return flops / 1e9 * Self.interpolate(points, seqLen)
    }

    static func interpolate(_ points: [Point], _ seqLen: Int) -> Double {
        let sorted = points.sorted { $0.seqLen < $1.seqLen }
        guard let first = sorted.first, let last = sorted.last else { return 0 }
        if seqLen <= first.seqLen || sorted.count == 1 { return first.secondsPerGFLOP }
        if seqLen >= last.seqLen { return last.secondsPerGFLOP }
        let t = Double(seqLen - first.seqLen) / Double(last.seqLen - first.seqLen)
        return first.secondsPerGFLOP + t * (last.secondsPerGFLOP - first.secondsPerGFLOP)
    }
}

/// Measures `EngineRate`s on this machine: a model of the run's shape (its own weights, not the run's)
/// runs a batch of the run's shape once to warm up (buffers, packed weights), then three times timed;
/// the fastest counts. A few seconds for a 6-layer MiniLM batch of 16 × 384. The figures are kept in a
/// cache file (`~/.cache/mrc-distill/engine-rates.json`, or `MRC_ENGINE_RATES`) under a key naming the
/// processor, the worker threads, any `MRC_ONEDNN_MAX_ISA` cap, the precision and both shapes, so the
/// next run on this machine estimates at once.
public enum EngineCalibration {
    public static var cacheURL: URL {
        if let path = ProcessInfo.processInfo.environment["MRC_ENGINE_RATES"], !path.isEmpty { return URL(fileURLWithPath: path) }
        let home = ProcessInfo.processInfo.environment["XDG_CACHE_HOME"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache")
        return home.appendingPathComponent("mrc-distill/engine-rates.json")
    }

    /// This machine's processor as /proc/cpuinfo names it (model name, family and model).
    public static var processor: String {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown processor" }
        func field(_ name: String) -> String? {
            info.split(separator: "\n").first { $0.hasPrefix(name) }?.split(separator: ":", maxSplits: 1).last
                .map { $0.trimmingCharacters(in: .whitespaces) }
        }
        return "\(field("model name") ?? "unknown processor") (family \(field("cpu family") ?? "?"), model \(field("model\t") ?? "?"))"
    }

    /// The rate for `config` in `precision` at batches of `rows` × `seqLen` (training: the training pass
    /// and optimizer too), from the cache or measured now (and cached). `staticInt8`: int8 with static scales
    /// (a calibrated model) rather than per token.
    public static func rate(config: BertConfig, precision: Precision, rows: Int, seqLen: Int, training: Bool,
                            staticInt8: Bool = false) -> EngineRate {
        let cap = ProcessInfo.processInfo.environment["MRC_ONEDNN_MAX_ISA"].map { " cap \($0)" } ?? ""
        let scheme = precision == .int8 && staticInt8 ? "-static" : ""
        let key = "\(processor)|\(Parallelism.workers) threads\(cap)|\(precision.rawValue)\(scheme)|L\(config.numHiddenLayers) "
            + "C\(config.hiddenSize) I\(config.intermediateSize) H\(config.numAttentionHeads) V\(config.vocabSize)|"
            + "\(rows)x\(seqLen)|\(training ? "train" : "infer")|v4"
        var cache = (try? JSONDecoder().decode([String: EngineRate].self, from: Data(contentsOf: cacheURL))) ?? [:]
        if var cached = cache[key] {
            cached.measured = "cached, " + cached.measured
            return cached
        }
        let rate = measure(config: config, precision: precision, rows: rows, seqLen: seqLen, training: training,
                           staticInt8: staticInt8)
        cache[key] = rate
        try? FileManager.default.createDirectory(at: cacheURL.deletingLastPathComponent(), withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try? encoder.encode(cache).write(to: cacheURL, options: .atomic)
        return rate
    }

    /// Times the engine now (see the type's documentation).
    public static func measure(config: BertConfig, precision: Precision, rows: Int, seqLen: Int, training: Bool,
                               staticInt8: Bool = false) -> EngineRate {
        let model = BertModel(config: config, heads: .span)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for index in 0..<model.parameters.count {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            model.parameters.pointer[index] = Float(Int64(bitPattern: state >> 11) % 2001 - 1000) * 2e-5  // within ±0.02
        }
        model.precision = precision
        if precision == .int8, staticInt8 {
            // Static scales from the sample batch itself: timing needs scales, not good ones.
            model.int8Calibration = try! model.calibrateInt8(batches: [sampleBatch(config: config, rows: rows, seqLen: seqLen)],
                                                             source: "the estimate's batch")
        }
        let cost = EncoderCost(config: config)
        let lengths = Array(Set([seqLen, max(8, seqLen / 2 / 8 * 8)])).sorted()
        var rate = EngineRate(inference: [], measured: "measured \(ISO8601DateFormatter().string(from: Date()))")
        if training { rate.training = [] }
        for length in lengths {
            let batch = sampleBatch(config: config, rows: rows, seqLen: length)
            let forward = fastest { _ = try! model.forward(batch, forTraining: false) }
            rate.inference.append(.init(seqLen: length, secondsPerGFLOP: forward / (cost.forward(rows: rows, seqLen: length) / 1e9)))
            guard training else { continue }
            // A loss gradient as a real one: a softmax minus a one-hot, per row, nothing zero (the backward's
            // products then carry real values, as in training).
            let gradient = (0..<rows * length).map { index -> Float in
                index % length == 7 ? Float(1) / Float(length) - 1 : Float(1) / Float(length) }
            let pass = fastest {
                _ = try! model.forward(batch, dropoutSeed: 1)
                model.backward(dStartLogits: gradient, dEndLogits: gradient)
            }
            rate.training?.append(.init(seqLen: length, secondsPerGFLOP: pass / (cost.training(rows: rows, seqLen: length) / 1e9)))
        }
        guard training else { return rate }
        let count = model.parameters.count
        let optimizer = AdamW(segments: try! ParameterSegments(tensors: [("all", 0..<count, true)], total: count))
        rate.optimizerSecondsPerMillionParameters = fastest {
            _ = GradientClipping.globalNorm(model.gradients.pointer, count: count)
            optimizer.update(parameters: model.parameters.pointer, gradients: model.gradients.pointer, learningRate: 1e-9)
            model.zeroGradients()
        } / (Double(count) / 1e6)
        let ema = try! EMA(decay: 0.999, count: count)
        rate.emaSecondsPerMillionParameters = fastest { ema.update(weights: model.parameters.pointer) } / (Double(count) / 1e6)
        return rate
    }

    /// Seconds per GB of writing a file to `directory`'s file system and syncing it (64 MB written now and
    /// removed): what checkpoints and models cost on that disk.
    public static func diskSecondsPerGB(directory: URL) -> Double {
        let manager = FileManager.default
        var folder = directory
        while !manager.fileExists(atPath: folder.path), folder.pathComponents.count > 1 { folder.deleteLastPathComponent() }
        let file = folder.appendingPathComponent(".mrc-disk-rate-\(getpid())")
        defer { try? manager.removeItem(at: file) }
        let bytes = 64 << 20
        let block = Data(count: bytes)
        let start = DispatchTime.now().uptimeNanoseconds
        guard manager.createFile(atPath: file.path, contents: nil), let handle = try? FileHandle(forWritingTo: file) else { return 0 }
        try? handle.write(contentsOf: block)
        try? handle.synchronize()
        try? handle.close()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / (Double(bytes) / 1e9)
    }

    /// A batch of `rows` full rows of `seqLen` tokens (question and context segments, no padding).
    static func sampleBatch(config: BertConfig, rows: Int, seqLen: Int) -> EncoderBatch {
        let tokens = rows * seqLen
        return try! EncoderBatch(batch: rows, seqLen: seqLen,
                                 inputIds: (0..<tokens).map { Int32($0 * 7919 % config.vocabSize) },
                                 tokenTypeIds: (0..<tokens).map { Int32($0 % seqLen >= seqLen / 3 ? min(1, max(0, config.typeVocabSize - 1)) : 0) },
                                 attentionMask: [Int32](repeating: 1, count: tokens))
    }

    /// One untimed run (buffers, converted weights), then the fastest of three timed ones, in seconds:
    /// what the machine does when nothing else runs (another process's burst only slows a run down).
    static func fastest(_ body: () -> Void) -> Double {
        body()
        return (0..<3).map { _ in RunEstimate.timed(body).1 }.min()!
    }
}
