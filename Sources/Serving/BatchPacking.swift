/// What a batch of windows costs and how many fit in a token budget.
///
/// `Predictor.scores` pads a batch to its longest window rounded up to a multiple of 8 (at most the
/// window size), so a batch of `n` windows whose longest has `L` tokens costs `n × min(size, ⌈L/8⌉·8)`
/// token positions — the quantity the encoder's time and memory follow, and the one
/// `--max-batch-tokens` bounds.
public enum BatchPacking {
    /// The width `Predictor.scores` pads a batch to.
    public static func paddedWidth(longest: Int, windowSize: Int) -> Int {
        min(windowSize, (longest + 7) / 8 * 8)
    }

    /// How many of `lengths`, taken in order, fit in `budget` token positions — one at least, even
    /// when it alone exceeds the budget (a window is never split) — and whether the budget is what
    /// stopped the count (false when `lengths` ran out first).
    public static func fit(lengths: some Sequence<Int>, windowSize: Int, budget: Int) -> (count: Int, full: Bool) {
        var count = 0
        var longest = 0
        for length in lengths {
            let widest = max(longest, length)
            if count > 0 && (count + 1) * paddedWidth(longest: widest, windowSize: windowSize) > budget {
                return (count, true)
            }
            count += 1
            longest = widest
        }
        return (count, count > 0 && count * paddedWidth(longest: longest, windowSize: windowSize) >= budget)
    }
}
