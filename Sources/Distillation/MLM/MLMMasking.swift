import Checkpoint
import Training

/// A batch of masked-language-model inputs: the padded, masked token ids, the flat positions of the
/// masked tokens (b · paddedLength + t, counted against the batch's own padded length — D-NET counted
/// them against another width, wrong for every row but the first), and the original ids there.
public struct MaskedBatch: Sendable, Equatable {
    public var rows: Int
    public var paddedLength: Int
    /// [rows, paddedLength], `[PAD]` after each row's tokens.
    public var inputIds: [Int32]
    /// [rows, paddedLength], 1 for real tokens.
    public var attentionMask: [Int32]
    /// Flat positions of the selected tokens, row by row, increasing.
    public var positions: [Int32]
    /// The original token id at each selected position.
    public var labels: [Int32]
    public var realTokens: Int
}

/// BERT's masking: of each row's maskable tokens (never `[CLS]`, `[SEP]`, `[PAD]`, `[MASK]`), round(15 %)
/// and at least one are selected uniformly without replacement; a selected token becomes `[MASK]` with
/// probability 0.8, a random token with 0.1, and stays itself with 0.1. The random replacement is drawn
/// uniformly from the vocabulary's other ids (special tokens excluded). Everything is a function of the seed.
public struct MLMMasking: Sendable {
    public var probability: Double
    public let vocabularySize: Int
    public let maskId: Int32
    public let padId: Int32
    /// Ids never selected and never drawn as replacements.
    public let specialIds: Set<Int32>

    public init(vocabulary: Vocabulary, probability: Double = 0.15) {
        self.probability = probability
        vocabularySize = vocabulary.count
        maskId = vocabulary.maskId
        padId = vocabulary.padId
        specialIds = [vocabulary.clsId, vocabulary.sepId, vocabulary.padId, vocabulary.maskId]
    }

    /// Masks `sequences` (real tokens only), padded to `paddedLength` (at least the longest).
    public func mask(_ sequences: [[Int32]], paddedLength: Int, seed: UInt64) -> MaskedBatch {
        let width = max(paddedLength, sequences.map(\.count).max() ?? 0)
        var batch = MaskedBatch(rows: sequences.count, paddedLength: width,
                                inputIds: [Int32](repeating: padId, count: sequences.count * width),
                                attentionMask: [Int32](repeating: 0, count: sequences.count * width),
                                positions: [], labels: [], realTokens: 0)
        var generator = Xoshiro256(seed: seed, stream: 0x6D6C6D)
        for (row, tokens) in sequences.enumerated() {
            let base = row * width
            for (t, id) in tokens.enumerated() {
                batch.inputIds[base + t] = id
                batch.attentionMask[base + t] = 1
            }
            batch.realTokens += tokens.count
            var candidates = tokens.indices.filter { !specialIds.contains(tokens[$0]) }
            guard !candidates.isEmpty else { continue }
            let count = min(candidates.count, max(1, Int((Double(candidates.count) * probability).rounded())))
            // Partial Fisher–Yates: the first `count` entries become a uniform sample.
            for i in 0..<count {
                let j = i + Int(generator.next() % UInt64(candidates.count - i))
                candidates.swapAt(i, j)
            }
            for t in candidates[0..<count].sorted() {
                batch.positions.append(Int32(base + t))
                batch.labels.append(tokens[t])
                let u = generator.nextUnitFloat()
                if u < 0.8 {
                    batch.inputIds[base + t] = maskId
                } else if u < 0.9 {
                    batch.inputIds[base + t] = randomToken(&generator)
                }
            }
        }
        return batch
    }

    private func randomToken(_ generator: inout Xoshiro256) -> Int32 {
        while true {
            let id = Int32(generator.next() % UInt64(vocabularySize))
            if !specialIds.contains(id) { return id }
        }
    }
}
