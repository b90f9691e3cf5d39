import Distillation
import Foundation
import Kernels
import Text
import Training

/// A member of an ensemble, `[NAME=]PATH[:WEIGHT]`: a `teach --teacher` (PATH a model directory — a model
/// teacher — or a prediction file, `predictions.json` / `nbest_predictions.json`: a black-box teacher, or
/// `logits:FILE`, a teacher-logits file of docs/TEACHER-LOGITS.md), or a `predict --model` / `score --model`
/// (PATH a model directory). NAME defaults to the directory's or file's name (without .gz, .jsonl, .json),
/// WEIGHT to 1.
struct MemberSpec: Equatable {
    var name: String
    var path: String
    var weight: Double
    /// `logits:FILE`: a teacher-logits file.
    var isLogitsFile = false
    static let logitsPrefix = "logits:"

    init(_ text: String, option: String = "--teacher") throws {
        var rest = Substring(text)
        var name: String? = nil
        if let equals = rest.firstIndex(of: "="), !rest[..<equals].contains("/") {
            name = String(rest[..<equals])
            rest = rest[rest.index(after: equals)...]
        }
        if rest.hasPrefix(Self.logitsPrefix) {
            guard option == "--teacher" else { throw DistillationError("\(option) \(text): logits files are teachers (teach --teacher)") }
            isLogitsFile = true
            rest = rest.dropFirst(Self.logitsPrefix.count)
        }
        weight = 1
        if let colon = rest.lastIndex(of: ":"), let value = Double(rest[rest.index(after: colon)...]) {
            weight = value
            rest = rest[..<colon]
        }
        guard !rest.isEmpty else { throw DistillationError("\(option) \(text): no path (expected [NAME=]PATH[:WEIGHT])") }
        guard weight > 0, weight.isFinite else { throw DistillationError("\(option) \(text): the weight must be positive") }
        path = String(rest)
        let url = URL(fileURLWithPath: path)
        var stem = url.lastPathComponent
        for suffix in [".gz", ".jsonl"] where isLogitsFile && stem.hasSuffix(suffix) { stem.removeLast(suffix.count) }
        self.name = name ?? (url.pathExtension == "json" ? url.deletingPathExtension().lastPathComponent : stem)
        guard !self.name.isEmpty else { throw DistillationError("\(option) \(text): empty name") }
    }

    var isDirectory: Bool {
        var directory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
    }

    /// The teacher: a model directory, a black-box prediction file, or a teacher-logits file.
    func load(student: any Tokenizer, useEMA: Bool, batchSize: Int, precision: Precision = .fp32) throws -> Teacher {
        guard FileManager.default.fileExists(atPath: path) else {
            throw DistillationError("--teacher \(name): \(path) does not exist")
        }
        if isLogitsFile {
            guard !isDirectory else { throw DistillationError("--teacher \(name): \(path) is a directory, not a logits file") }
            return try LogitsFileTeacher(name: name, url: URL(fileURLWithPath: path))
        }
        if isDirectory {
            let ema = useEMA && FileManager.default.fileExists(atPath: URL(fileURLWithPath: path).appendingPathComponent("ema.safetensors").path)
            return try ModelTeacher(directory: URL(fileURLWithPath: path), studentTokenizer: student, name: name,
                                    weightsFile: ema ? "ema.safetensors" : nil, batchSize: batchSize, precision: precision)
        }
        return try BlackBoxTeacher(name: name, url: URL(fileURLWithPath: path))
    }
}
