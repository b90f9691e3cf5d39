import Checkpoint
import Foundation
import Kernels
import Model

/// What a run will take, told before it starts (`train`, `distill`, `teach`, `predict`; `--estimate`
/// prints it and exits): its windows and steps, the wall time of each phase from the cost model
/// (`EncoderCost` FLOPs × this machine's `EngineRate`), and the peak resident memory: what the process
/// holds now (weights, data) plus what the run will allocate (gradients, AdamW moments, EMA, the
/// activation arena and low-precision buffers as `ModelMemory` sizes them, a checkpoint's optimizer
/// payload while it is written).
public struct RunEstimate: Sendable {
    public struct Phase: Sendable {
        public var name: String
        public var seconds: Double
        public init(name: String, seconds: Double) { self.name = name; self.seconds = seconds }
    }

    public var command: String
    public var windows: Int
    public var steps: Int?
    public var phases: [Phase] = []
    public var peakBytes: Int
    /// How the rates were had, and on which processor.
    public var basis: String

    public init(command: String, windows: Int, steps: Int? = nil, phases: [Phase] = [], peakBytes: Int, basis: String) {
        self.command = command; self.windows = windows; self.steps = steps; self.phases = phases
        self.peakBytes = peakBytes; self.basis = basis
    }

    public var seconds: Double { phases.reduce(0) { $0 + $1.seconds } }

    /// The lines printed before the run.
    public var lines: [String] {
        var head = "estimate for \(command): \(windows) windows"
        if let steps { head += ", \(steps) steps" }
        head += String(format: ", about %@ wall time, peak memory about %.2f GB", Self.clock(seconds), Double(peakBytes) / 1e9)
        let parts = phases.map { String(format: "%@ %@", $0.name, Self.clock($0.seconds)) }.joined(separator: ", ")
        return [head, "  \(parts); rates \(basis)"]
    }

    /// 1 h 02 min, 3 min 20 s, 12 s.
    public static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s >= 3600 { return String(format: "%d h %02d min", s / 3600, s % 3600 / 60) }
        if s >= 60 { return String(format: "%d min %02d s", s / 60, s % 60) }
        return "\(s) s"
    }

    /// Seconds since this process started (/proc/self/stat's start time against /proc/uptime): the
    /// reading, tokenising and loading a run has done when it tells its estimate.
    public static var processSeconds: Double {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
              let uptime = (try? String(contentsOfFile: "/proc/uptime", encoding: .utf8))?.split(separator: " ").first.flatMap({ Double($0) }),
              let close = stat.lastIndex(of: ")") else { return 0 }
        // Fields after the command name: state is field 3, start time field 22.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let ticks = Double(fields[19]) else { return 0 }
        return max(0, uptime - ticks / Double(sysconf(Int32(_SC_CLK_TCK))))
    }

    /// The phase of what is done when the estimate is told (reading data, loading models).
    public static var loaded: Phase { Phase(name: "loaded (done)", seconds: processSeconds) }

    /// Runs `body` and returns its result with the seconds it took.
    public static func timed<T>(_ body: () throws -> T) rethrows -> (T, Double) {
        let start = DispatchTime.now().uptimeNanoseconds
        let result = try body()
        return (result, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }

    /// This process's resident memory now (VmRSS), in bytes.
    public static var residentBytes: Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kB = Int(line.split(separator: " ").dropFirst().first { !$0.isEmpty } ?? "") else { return 0 }
        return kB * 1024
    }

    /// Inference over windows of `lengths` tokens by each model (`predict`, `score`, `teach`, a dev
    /// evaluation), `batchSize` windows per forward: the phase's seconds and the bytes of the buffers
    /// the models allocate (each its converted weights; one arena per shape, shared as `InferenceArena` shares it).
    /// `staticInt8`: the models run int8 with static scales (`BertModel.int8Calibration`).
    public static func inference(models: [BertConfig], lengths: [Int], batchSize: Int, maxSeqLen: Int, precision: Precision,
                                 staticInt8: Bool = false) -> (seconds: Double, workingBytes: Int, basis: String)
    {
        var seconds = 0.0, bytes = 0, basis = ""
        let rows = max(1, min(batchSize, lengths.count))
        var shapes: [BertConfig] = []
        for config in models where !shapes.contains(config) { shapes.append(config) }
        for config in shapes {
            let count = models.filter { $0 == config }.count
            let rate = EngineCalibration.rate(config: config, precision: precision, rows: rows, seqLen: maxSeqLen, training: false,
                                              staticInt8: staticInt8)
            let cost = EncoderCost(config: config)
            seconds += Double(count) * lengths.reduce(0) { total, length in
                let padded = (length + 7) / 8 * 8
                return total + rate.seconds(flops: cost.forward(rows: 1, seqLen: padded), seqLen: padded, training: false)
            }
            let layout = ParameterLayout(config: config, heads: .span)
            let converted = ModelMemory.convertedWeightsBytes(layout: layout, precision: precision, training: false,
                                                              staticInt8: staticInt8)
            let arena = ModelMemory.workingBytes(layout: layout, rows: rows, seqLen: maxSeqLen, training: false,
                                                 precision: precision, staticInt8: staticInt8) - converted
            bytes += count * converted + arena
            basis = rate.measured
        }
        let scheme = precision == .int8 ? (staticInt8 ? " (static scales)" : " (per-token scales)") : ""
        return (seconds, bytes, "\(basis) on \(EngineCalibration.processor), \(precision.rawValue)\(scheme)")
    }
}
