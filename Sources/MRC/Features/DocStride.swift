/// The sliding windows of the original BERT `run_squad.py` (and D-NET): a context of `n` tokens is
/// cut into windows of at most `maxContextTokens` tokens, each window starting `docStride` tokens
/// after the previous one (or right after it when the window is shorter than the stride), the last
/// window ending at the context's end.
///
/// Note: Hugging Face's tokenizer `stride` is a different quantity — the overlap between windows;
/// the two agree when `stride = maxContextTokens - docStride`.
public enum DocStride {
    /// The windows' token ranges within the context. Empty for an empty context.
    public static func spans(contextTokenCount: Int, maxContextTokens: Int, docStride: Int) -> [Range<Int>] {
        precondition(maxContextTokens > 0 && docStride > 0, "window size and stride must be positive")
        var spans: [Range<Int>] = []
        spans.reserveCapacity(max(1, contextTokenCount / docStride + 1))
        var start = 0
        while start < contextTokenCount {
            let length = min(contextTokenCount - start, maxContextTokens)
            spans.append(start..<(start + length))
            if start + length == contextTokenCount { break }
            start += min(length, docStride)
        }
        return spans
    }

    /// For each token of `spans[spanIndex]`: whether this window gives it its maximal context —
    /// score `min(tokens left, tokens right) + 0.01 × window length`, the first window winning ties
    /// (BERT's `_check_is_max_context`).
    public static func maxContextFlags(spans: [Range<Int>], spanIndex: Int) -> [Bool] {
        let span = spans[spanIndex]
        var flags = [Bool](repeating: false, count: span.count)
        for position in span {
            // Windows start in increasing order and so end in increasing order: the windows holding
            // `position` are a contiguous run around `spanIndex`.
            var first = spanIndex
            while first > 0 && spans[first - 1].contains(position) { first -= 1 }
            var bestIndex = -1
            var bestScore = -Double.infinity
            var index = first
            while index < spans.count && spans[index].contains(position) {
                let candidate = spans[index]
                let score = Double(min(position - candidate.lowerBound, candidate.upperBound - 1 - position))
                    + 0.01 * Double(candidate.count)
                if score > bestScore { bestScore = score; bestIndex = index }
                index += 1
            }
            flags[position - span.lowerBound] = bestIndex == spanIndex
        }
        return flags
    }
}
