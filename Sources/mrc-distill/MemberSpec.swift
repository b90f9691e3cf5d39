import Distillation
import Foundation
import Kernels
import Text
import Training

/// A member of an ensemble, `[NAME=]PATH[:WEIGHT]`: a `teach --teacher` (PATH a model directory — a model
/// teacher — or a prediction file, `predictions.json` / `nbest_predictions.json`: a black-box teacher), or
/// a `predict --model` / `score --model` (PATH a model directory). NAME defaults to the directory's or
/// file's name, WEIGHT to 1.
struct MemberSpec: Equatable {
    var name: String
    var path: String
    var weight: Double

    init(_ text: String, option: String = "--teacher") throws {
        var rest = Substring(text)
        var name: String? = nil
        if let equals = rest.firstIndex(of: "="), !rest[..<equals].contains("/") {
            name = String(rest[..<equals])
            rest = rest[rest.index(after: equals)...]
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
        self.name = name ?? (url.pathExtension == "json" ? url.deletingPathExtension().lastPathComponent : url.lastPathComponent)
        guard !self.name.isEmpty else { throw DistillationError("\(option) \(text): empty name") }
    }

    var isDirectory: Bool {
        var directory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
    }

    /// The teacher: a model directory, or a black-box prediction file.
    func load(student: any Tokenizer, useEMA: Bool, batchSize: Int, precision: Precision = .fp32) throws -> Teacher {
        guard FileManager.default.fileExists(atPath: path) else {
            throw DistillationError("--teacher \(name): \(path) does not exist")
        }
        if isDirectory {
            let ema = useEMA && FileManager.default.fileExists(atPath: URL(fileURLWithPath: path).appendingPathComponent("ema.safetensors").path)
            return try ModelTeacher(directory: URL(fileURLWithPath: path), studentTokenizer: student, name: name,
                                    weightsFile: ema ? "ema.safetensors" : nil, batchSize: batchSize, precision: precision)
        }
        return try BlackBoxTeacher(name: name, url: URL(fileURLWithPath: path))
    }
}
