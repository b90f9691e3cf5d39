import Checkpoint
import Foundation

/// Checks made before any work starts, so that a bad argument fails in a second with a message
/// naming the file or value, not after an hour of training.
public enum Preflight {
    /// Validates a model directory (config.json, model.safetensors, the tokenizer's vocabulary) against the window
    /// length and the layer selection; returns its config.
    public static func checkModel(_ directory: URL, maxSequenceLength: Int? = nil, layers: [Int]? = nil,
                                  weightsFile: String = "model.safetensors") throws -> BertConfig {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw TrainingError.invalidArgument("--model \(directory.path) is not a directory")
        }
        func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path) }
        for name in ["config.json", weightsFile] where !exists(name) {
            throw TrainingError.invalidArgument("--model \(directory.path) has no \(name)")
        }
        guard exists("vocab.txt") || exists("vocab.json") else {
            throw TrainingError.invalidArgument("--model \(directory.path) has no vocab.txt (the tokenizer's vocabulary is required; "
                + "vocab.json and merges.txt for a byte-level BPE)")
        }
        let config = try BertConfig.load(from: directory.appendingPathComponent("config.json"))
        if let maxSequenceLength {
            guard maxSequenceLength <= config.maxSequenceLength else {
                throw TrainingError.invalidArgument("--max-seq-len \(maxSequenceLength) exceeds the model's position table "
                    + "(max_position_embeddings = \(config.maxPositionEmbeddings) in \(directory.path)/config.json"
                    + (config.maxSequenceLength < config.maxPositionEmbeddings ? ", \(config.maxSequenceLength) after the padding offset)" : ")"))
            }
        }
        if let layers { try checkLayers(layers, available: config.numHiddenLayers) }
        return config
    }

    /// Parses `--layers` ("0,2,4").
    public static func parseLayers(_ text: String) throws -> [Int] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        return try parts.map { part in
            guard let layer = Int(part) else {
                throw TrainingError.invalidArgument("--layers '\(text)': '\(part)' is not a layer number")
            }
            return layer
        }
    }

    /// Layers must exist, be distinct and ascending (the student keeps the teacher's order).
    public static func checkLayers(_ layers: [Int], available: Int) throws {
        guard !layers.isEmpty else { throw TrainingError.invalidArgument("--layers is empty") }
        for layer in layers where !(0..<available).contains(layer) {
            throw TrainingError.invalidArgument("--layers: layer \(layer) does not exist (the model has layers 0...\(available - 1))")
        }
        guard zip(layers, layers.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw TrainingError.invalidArgument("--layers \(layers.map(String.init).joined(separator: ",")) must be distinct and ascending")
        }
    }

    /// Every data file must exist and be a regular file.
    public static func checkFiles(_ files: [URL], option: String) throws {
        for file in files {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: file.path, isDirectory: &isDirectory), !isDirectory.boolValue else {
                throw TrainingError.invalidArgument("\(option) \(file.path): no such file")
            }
        }
    }

    /// A fresh run refuses an output directory that already holds checkpoints (use --resume).
    public static func checkOutput(_ directory: URL, resume: Bool) throws {
        if !resume, let latest = CheckpointStore(outputDirectory: directory).latest {
            throw TrainingError.invalidArgument("--out \(directory.path) already holds \(latest.url.lastPathComponent); "
                + "pass --resume to continue that run or choose another directory")
        }
    }
}
