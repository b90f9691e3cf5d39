/// Maps an answer's character span to the tokens that cover it, through the tokens' character
/// offsets (Unicode-scalar ranges, increasing).
///
/// The start token is the token holding the answer's first character, or the first token after it
/// when that character produced no token (whitespace, a removed control character); the end token
/// is the last token that starts before the answer's end. An answer made only of such characters
/// covers no token.
public enum AnswerAlignment {
    /// Inclusive token indices `(start, end)` into `offsets`, or nil when no token lies in `characters`.
    public static func tokenSpan(of characters: Range<Int>, in offsets: [Range<Int>]) -> (start: Int, end: Int)? {
        // First token ending after the answer's start.
        let start = partitionPoint(offsets) { $0.upperBound > characters.lowerBound }
        // Tokens starting before the answer's end: the last of them ends the answer.
        let end = partitionPoint(offsets) { $0.lowerBound >= characters.upperBound } - 1
        guard start < offsets.count, end >= 0, start <= end else { return nil }
        return (start, end)
    }

    /// The first index whose element satisfies `predicate`, which must be false then true along the array.
    static func partitionPoint(_ offsets: [Range<Int>], _ predicate: (Range<Int>) -> Bool) -> Int {
        var low = 0
        var high = offsets.count
        while low < high {
            let middle = (low + high) / 2
            if predicate(offsets[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
