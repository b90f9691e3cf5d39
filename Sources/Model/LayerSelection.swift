import Checkpoint

extension BertModel {
    /// A smaller student made of this model's embeddings, the encoder layers at `layers` (in that order,
    /// renumbered 0, 1, ...) and the same heads; e.g. layers [0, 2, 4] of a 6-layer teacher. Copies weights.
    public func selectingLayers(_ layers: [Int]) throws -> BertModel {
        guard !layers.isEmpty else { throw ModelError.invalidInput("layer selection is empty") }
        if let bad = layers.first(where: { !(0..<config.numHiddenLayers).contains($0) }) {
            throw ModelError.invalidInput("layer \(bad) is not one of the model's layers 0..<\(config.numHiddenLayers)")
        }
        var studentConfig = config
        studentConfig.numHiddenLayers = layers.count
        let student = BertModel(config: studentConfig, heads: heads)
        for entry in student.layout.entries {
            var sourceName = entry.name
            let prefix = "bert.encoder.layer."
            if sourceName.hasPrefix(prefix) {
                let rest = sourceName.dropFirst(prefix.count)
                let index = Int(rest.prefix { $0 != "." })!
                sourceName = prefix + String(layers[index]) + rest.drop { $0 != "." }
            }
            let source = parameters[sourceName]
            student.parameters[entry.name].baseAddress!.update(from: source.baseAddress!, count: entry.count)
        }
        return student
    }
}
