/// What a batch of windows costs, and which queued windows make the next batch.
///
/// `Predictor.scores` pads a batch to its longest window rounded up to a multiple of 8 (at most the
/// window size), so a batch of `n` windows whose longest has `L` tokens costs `n × min(size, ⌈L/8⌉·8)`
/// token positions — the quantity the encoder's time and memory follow, and the one
/// `--max-batch-tokens` bounds. Padding is computed and thrown away, and on this engine a forward
/// pass costs little beyond its token positions (measured under load: ≈ 8 ms + 0.19 ms per position
/// for the 3-layer student, so one pass costs about as much as `forwardOverhead` = 64 more
/// positions). So the queued windows are split, in length order, into the batches that cost least in
/// all (positions + 64 per batch, each within the budget), and the batch holding the oldest window
/// runs next — every batch takes the oldest, so no window waits behind an endless stream of others.
public enum BatchPacking {
    /// A forward pass's fixed cost, in token positions.
    public static let forwardOverhead = 64

    /// The width `Predictor.scores` pads a batch to.
    public static func paddedWidth(longest: Int, windowSize: Int) -> Int {
        min(windowSize, (longest + 7) / 8 * 8)
    }

    /// Whether `lengths` hold enough token positions to fill a batch of `budget`.
    public static func fills(lengths: some Sequence<Int>, windowSize: Int, budget: Int) -> Bool {
        var total = 0
        for length in lengths {
            total += paddedWidth(longest: length, windowSize: windowSize)
            if total >= budget { return true }
        }
        return false
    }

    /// The indices (into `lengths`) of the next batch: of the cheapest split of all the windows, in
    /// length order (ties: index order), into batches within `budget` — cost: padded positions plus
    /// `overhead` per batch — the batch that holds `head`. A window above the budget goes alone.
    public static func choose(lengths: [Int], head: Int, windowSize: Int, budget: Int,
                              overhead: Int = forwardOverhead) -> [Int] {
        precondition(lengths.indices.contains(head), "the head must be one of the windows")
        let order = lengths.indices.sorted { (lengths[$0], $0) < (lengths[$1], $1) }
        let count = order.count
        // cheapest[end]: least cost of batching order[0..<end]; first[end]: where its last batch starts.
        var cheapest = [Int](repeating: .max, count: count + 1)
        var first = [Int](repeating: 0, count: count + 1)
        cheapest[0] = 0
        for end in 1...count {
            let width = paddedWidth(longest: lengths[order[end - 1]], windowSize: windowSize)
            let capacity = max(1, budget / width)
            for start in max(0, end - capacity)..<end {
                let cost = cheapest[start] + overhead + (end - start) * width
                if cost < cheapest[end] {
                    cheapest[end] = cost
                    first[end] = start
                }
            }
        }
        let position = order.firstIndex(of: head)!
        var end = count
        while first[end] > position { end = first[end] }
        return Array(order[first[end]..<end])
    }
}
