import ArgumentParser
import Checkpoint
import Foundation
import Kernels
import Model

/// `mrc-bench architectures`: the forward of one shape (the model directory's: all-MiniLM-L6-v2, 6 × 384) as
/// BERT, RoBERTa (positions past the padding index, one token type), DistilBERT (no token types) and ELECTRA
/// (embeddings 128 wide, projected to the hidden width, as ELECTRA-small's), randomly initialised. The runs
/// alternate between the architectures, so that the machine's drift falls on all of them alike. Prints JSON:
/// per architecture the median [min–max] seconds and the ratio of medians to BERT's (the target: within 10 %).
struct ArchitecturesBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "architectures",
        abstract: "Time the forward of each supported architecture at one shape; print JSON with ratios to BERT."
    )

    @Option(help: "Model directory whose config gives the shape (all-MiniLM-L6-v2; `bash scripts/minilm-dir`).")
    var model: String
    @OptionGroup var shape: BenchShapeOptions
    @Option(help: "Untimed runs of each architecture first.") var warmup: Int = 1
    @Option(help: "Timed runs of each architecture (they alternate).") var repeats: Int = 5
    @Option(help: "Precision of the encoder's matmuls: fp32, bf16 or int8.") var precision: Precision = .bf16

    func run() throws {
        shape.applyThreads()
        let base = try BertConfig.load(from: URL(fileURLWithPath: model).appendingPathComponent("config.json"))
        var models: [(String, BertModel)] = []
        for architecture in Architecture.allCases {
            var config = base
            config.architecture = architecture
            switch architecture {
            case .bert: break
            case .roberta: (config.padTokenId, config.maxPositionEmbeddings, config.typeVocabSize) = (1, 514, 1)
            case .distilbert: config.typeVocabSize = 0
            case .electra: config.embeddingSize = 128
            }
            let network = BertModel(config: config, heads: .span)
            for entry in network.layout.entries {
                var generator = SeededGenerator(seed: stableHash(entry.name))
                network.parameters.initialise(entry.name, std: Float(config.initializerRange), generator: &generator)
            }
            network.precision = precision
            models.append((architecture.rawValue, network))
        }
        let batch = try EncoderBatch(batch: shape.batch, seqLen: shape.seqLen,
                                     inputIds: benchInputIds(batch: shape.batch, seqLen: shape.seqLen, vocab: base.vocabSize))
        for (_, network) in models { for _ in 0..<warmup { _ = try network.forward(batch, forTraining: false) } }
        var runs = [[Double]](repeating: [], count: models.count)
        for _ in 0..<repeats {
            for (index, (_, network)) in models.enumerated() {
                let start = DispatchTime.now().uptimeNanoseconds
                _ = try network.forward(batch, forTraining: false)
                runs[index].append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
            }
        }
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        let bertMedian = median(runs[0])
        var results: [String: Any] = ["threads": shape.threads, "batch": shape.batch, "seq_len": shape.seqLen,
                                      "precision": precision.rawValue, "low_precision": LowPrecision.summary]
        var lines: [String] = []
        for (index, (name, _)) in models.enumerated() {
            let sorted = runs[index].sorted()
            results[name] = ["median": median(sorted), "min": sorted.first!, "max": sorted.last!, "runs": runs[index],
                             "ratio_to_bert": median(sorted) / bertMedian]
            lines.append(String(format: "%@ %.4f s [%.4f–%.4f] (%.3f× BERT)", name, median(sorted), sorted.first!, sorted.last!,
                                median(sorted) / bertMedian))
        }
        FileHandle.standardError.write(Data(("forward \(shape.batch)×\(shape.seqLen) \(precision.rawValue): "
                                             + lines.joined(separator: "; ") + "\n").utf8))
        let json = try JSONSerialization.data(withJSONObject: results, options: [.sortedKeys])
        print(String(decoding: json, as: UTF8.self))
    }
}
