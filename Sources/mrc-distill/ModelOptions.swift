import ArgumentParser
import Foundation
import Training

/// Which model to load, and which of its layers and weights to use.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "Model directory in the Hugging Face layout (config.json, model.safetensors, vocab.txt).")
    var model: String

    @Option(name: .long, help: "Keep only these encoder layers, e.g. 0,2,4 (a smaller student).")
    var layers: String?

    @Flag(name: .long, help: "Use the EMA weights (ema.safetensors beside model.safetensors) instead of the raw weights.")
    var ema = false

    var modelURL: URL { URL(fileURLWithPath: model) }

    func parsedLayers() throws -> [Int]? {
        try layers.map { try Preflight.parseLayers($0) }
    }
}

/// Turns a library error into the parser's "Error: ..." line with the usage hint.
func refuse(_ body: () throws -> Void) throws {
    do { try body() } catch let error as TrainingError {
        throw ValidationError(error.description)
    } catch {
        throw ValidationError(String(describing: error))
    }
}

/// The MPI rank of this process (0 outside MPI): only rank 0's reports are printed.
nonisolated(unsafe) var reportingRank = 0

/// A line on stderr (progress and reports; stdout carries results), from rank 0 alone in an MPI job.
func report(_ line: String) {
    guard reportingRank == 0 else { return }
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
