import Checkpoint
import Distillation
import Foundation
import Text
import Training

/// Targets for what checkpoints and stores are made of: config.json, vocab.txt, safetensors, the trainer's
/// resume state, the soft-label store. Accepted inputs are then used as the program uses them.
enum CheckpointTargets {
    static let all: [FuzzTarget] = [
        FuzzTarget("config", "Hugging Face BERT config.json (BertConfig.parse + validate)", maxLength: 4_096) { data in
            let config = try BertConfig.parse(data, file: FuzzScratch.fileName)
            precondition(config.hiddenSize % config.numAttentionHeads == 0, "validate accepted heads that do not divide the width")
        },
        FuzzTarget("vocab", "WordPiece vocab.txt (Vocabulary), then a tokenizer built on it encoding a fixed text", maxLength: 8_192) { data in
            let vocabulary = try Vocabulary(data: data, source: FuzzScratch.fileName)
            let encoding = WordPieceTokenizer(vocabulary: vocabulary).encode("Hostile input: 12.5% Ünïcödé, 中文 and ##pieces.")
            precondition(encoding.ids.allSatisfy { $0 >= 0 && Int($0) < vocabulary.count }, "an id outside the vocabulary")
        },
        FuzzTarget("safetensors", "safetensors (SafeTensorsFile: header, offsets), then every tensor read as the model loader does") { data in
            let file = try SafeTensorsFile(data: data, source: FuzzScratch.fileName)
            for name in file.names {
                let info = try file.info(name)
                precondition(info.dataRange.upperBound - info.dataRange.lowerBound == info.elementCount * info.dtype.byteSize,
                             "a tensor's byte range disagrees with its shape")
                if [.f32, .f16, .bf16].contains(info.dtype) { _ = try file.floats(name) }
                if [.i32, .i64].contains(info.dtype) { _ = try? file.int32s(name) }
            }
        },
        FuzzTarget("trainer-state", "the trainer's resume state trainer_state.json (TrainerState.decode + validate)", maxLength: 4_096) { data in
            let state = try TrainerState.decode(data, file: FuzzScratch.fileName)
            _ = try Xoshiro256(state: state.generatorState)
        },
        FuzzTarget("soft-labels", "the soft-label store (SoftLabelStore: header, provenance, records, CRCs, footer), every record read") { data in
            let store = try SoftLabelStore(url: try FuzzScratch.write(data, suffix: ".mrcsl"))
            var start: [Float] = [], end: [Float] = []
            for index in 0..<store.count {
                let length = store.length(at: index)
                if start.count < length { start = [Float](repeating: 0, count: length); end = start }
                _ = store.key(at: index)
                store.logProbabilities(at: index, start: &start, end: &end)
            }
        },
    ]
}
