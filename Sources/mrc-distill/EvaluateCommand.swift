import ArgumentParser
import Foundation
import MRC

/// `mrc-distill evaluate`: scores predictions files with the official SQuAD v1.1 / v2.0 / MRQA semantics.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Score predictions (question id → answer text) with the official SQuAD v1.1/v2.0 and MRQA metrics.",
        discussion: """
        Each data file is scored with the semantics of its format: SQuAD v1.1 JSON, SQuAD v2.0 JSON (a `v2` version \
        or any `is_impossible` question), MRQA .jsonl/.jsonl.gz (keyed by `qid`; a prediction keyed by the \
        question's SQuAD `id` is used when none is keyed by its `qid`). Data files under an `in_domain/` or \
        `out_of_domain/` folder, or given with --in-domain / --out-of-domain, are macro-averaged per group \
        (unweighted mean over datasets, as MRQA reports). A directory stands for the data files in it.
        """
    )

    @Option(name: .long, parsing: .upToNextOption, help: "Data files or directories (SQuAD .json, MRQA .jsonl[.gz]).")
    var data: [String] = []

    @Option(name: .long, parsing: .upToNextOption, help: "Data files or directories of the in-domain group.")
    var inDomain: [String] = []

    @Option(name: .long, parsing: .upToNextOption, help: "Data files or directories of the out-of-domain group.")
    var outOfDomain: [String] = []

    @Option(name: .long, parsing: .upToNextOption, help: "Predictions JSON files: {question id: answer text}.")
    var predictions: [String]

    @Option(name: .long, help: "SQuAD v2.0 no-answer probabilities JSON ({id: number}); adds the best thresholds.")
    var naProbs: String?

    @Option(name: .long, help: "SQuAD v2.0: a question whose no-answer probability is above this counts as unanswered.")
    var naProbThreshold: Double = 1.0

    @Flag(name: .long, help: "Print one JSON object (one line per predictions file) instead of a table.")
    var json = false
    @OptionGroup var dataOptions: DataOptions

    func validate() throws {
        if data.isEmpty && inDomain.isEmpty && outOfDomain.isEmpty {
            throw ValidationError("give at least one data file with --data, --in-domain or --out-of-domain")
        }
    }

    func run() throws {
        var inputs: [(url: URL, group: String?)] = []
        for (paths, group) in [(data, nil as String?), (inDomain, MRCEvaluation.inDomain), (outOfDomain, MRCEvaluation.outOfDomain)] {
            for url in try DataFileList.expand(paths) where !inputs.contains(where: { $0.url == url }) {
                inputs.append((url, group ?? MRCEvaluation.group(ofFile: url)))
            }
        }
        var datasets: [(dataset: MRCDataset, group: String?)] = []
        for input in inputs {
            let dataset = try MRCReader.read(input.url, strict: dataOptions.strict)
            if !dataset.report.skipped.isEmpty {
                FileHandle.standardError.write(Data("note: \(dataset.report.summary)\n".utf8))
            }
            datasets.append((dataset, input.group))
        }
        let probabilities = try naProbs.map { try MRCEvaluation.readNoAnswerProbabilities(URL(fileURLWithPath: $0)) }
        let reports = try predictions.map { path in
            MRCEvaluation.evaluate(datasets, predictions: try MRCEvaluation.readPredictions(URL(fileURLWithPath: path)),
                                   predictionsFile: path, noAnswerProbabilities: probabilities,
                                   noAnswerThreshold: naProbThreshold)
        }
        if json {
            print(reports.map(\.json).joined(separator: "\n"))
        } else {
            print(reports.count == 1 ? reports[0].table : EvaluationReport.table(reports))
        }
    }
}

/// Expands command-line data paths: files as given, directories to the SQuAD/MRQA files under them (sorted).
enum DataFileList {
    static let extensions = [".json", ".jsonl", ".jsonl.gz", ".json.gz"]

    static func expand(_ paths: [String]) throws -> [URL] {
        var urls: [URL] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw DataReadError(file: path, message: "no such file or directory")
            }
            guard isDirectory.boolValue else { urls.append(URL(fileURLWithPath: path)); continue }
            let enumerator = FileManager.default.enumerator(atPath: path)
            var found: [String] = []
            while let relative = enumerator?.nextObject() as? String {
                if extensions.contains(where: { relative.hasSuffix($0) }) { found.append(relative) }
            }
            if found.isEmpty { throw DataReadError(file: path, message: "no .json, .jsonl or .jsonl.gz files in this directory") }
            urls += found.sorted().map { URL(fileURLWithPath: path).appendingPathComponent($0) }
        }
        return urls
    }
}
