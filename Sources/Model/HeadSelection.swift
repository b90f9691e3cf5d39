extension BertModel {
    /// A copy of this model with only `heads` (a subset of its own), e.g. the span-QA model alone out of
    /// a student that also trained an MLM head. Copies `weights` ([parameters.count], this model's
    /// layout), or the model's own parameters when nil.
    public func keepingHeads(_ heads: ModelHeads, weights: UnsafePointer<Float>? = nil) throws -> BertModel {
        guard self.heads.isSuperset(of: heads) else {
            throw ModelError.invalidInput("cannot keep heads \(heads.rawValue) of a model with heads \(self.heads.rawValue)")
        }
        let copy = BertModel(config: config, heads: heads)
        let source = weights ?? UnsafePointer(parameters.pointer)
        for entry in copy.layout.entries {
            let from = layout.entry(entry.name)!
            copy.parameters[entry.name].baseAddress!.update(from: source + from.offset, count: entry.count)
        }
        return copy
    }
}
