import Foundation

/// Joins the shard files of one run into the file the unsharded run would have written, byte for byte.
///
/// Checks, in order: every part opens and verifies; every part is a shard (has the `shard` field) of
/// the same count N; shard numbers are each present exactly once (a missing or duplicated number is an
/// error naming it); each part holds exactly the windows `SoftLabelShard.range` gives its number (so
/// together they cover `0..<window_count` once, in order); the provenance is identical across parts
/// except the shard field and the per-teacher `counts` and `statistics`, which are summed (integers, so
/// the sums equal the unsharded run's whatever the order). Parts may be given in any order.
public enum SoftLabelMerge {
    /// Merges `parts` into `url` (written atomically); returns the merged provenance.
    @discardableResult
    public static func merge(parts: [URL], into url: URL) throws -> SoftLabelProvenance {
        guard !parts.isEmpty else {
            throw SoftLabelStoreError(.shard, file: url.path, message: "no parts to merge")
        }
        let stores = try parts.map { try SoftLabelStore(url: $0) }
        func fail(_ store: SoftLabelStore, _ message: String) -> SoftLabelStoreError {
            SoftLabelStoreError(.shard, file: store.url.path, message: message)
        }
        var byIndex: [Int: SoftLabelStore] = [:]
        let shardCount = stores[0].provenance.shard?.count ?? 0
        for store in stores {
            guard let shard = store.provenance.shard else { throw fail(store, "is not a shard (no shard field); cannot merge it") }
            guard shard.count == shardCount else {
                throw fail(store, "is shard \(shard.index)/\(shard.count), but \(stores[0].url.path) is of \(shardCount) shards")
            }
            if let other = byIndex[shard.index] {
                throw fail(store, "shard \(shard.index)/\(shard.count) is given twice (also \(other.url.path))")
            }
            byIndex[shard.index] = store
        }
        let missing = (1...max(shardCount, 1)).filter { byIndex[$0] == nil }
        guard missing.isEmpty else {
            throw SoftLabelStoreError(.shard, file: url.path,
                                      message: "shard\(missing.count > 1 ? "s" : "") \(missing.map { "\($0)/\(shardCount)" }.joined(separator: ", ")) missing")
        }
        let ordered = (1...shardCount).map { byIndex[$0]! }
        if let last = ordered.last?.provenance, let shard = last.shard, shard.firstWindow + shard.windowCount != last.windowCount {
            throw fail(ordered.last!, "the last shard ends at window \(shard.firstWindow + shard.windowCount) of \(last.windowCount)")
        }
        var merged = ordered[0].provenance
        merged.shard = nil
        // The shards must tile 0..<windowCount in order: each starts where the previous one ended.
        var next = 0
        for (position, store) in ordered.enumerated() {
            let shard = store.provenance.shard!
            guard shard.firstWindow == next else {
                throw fail(store, "shard \(shard.index)/\(shard.count) starts at window \(shard.firstWindow), but the shards before "
                           + "it end at \(next): " + (shard.firstWindow > next ? "windows \(next)..<\(shard.firstWindow) are missing"
                                                                          : "windows \(shard.firstWindow)..<\(next) are covered twice"))
            }
            next = shard.firstWindow + shard.windowCount
            var stripped = store.provenance
            stripped.shard = nil
            guard sameExceptTallies(stripped, merged) else {
                throw fail(store, "its provenance differs from \(ordered[0].url.path)'s beyond the shard, counts and statistics")
            }
            if position > 0 {
                for teacher in merged.teachers.indices {
                    merged.teachers[teacher].counts.merge(stripped.teachers[teacher].counts, uniquingKeysWith: +)
                    merged.teachers[teacher].statistics.add(stripped.teachers[teacher].statistics)
                }
            }
        }
        let writer = try SoftLabelStoreWriter(url: url, provenance: merged)
        for store in ordered {
            try writer.appendVerifiedRecords(store.recordBytes(0..<store.count), count: store.count)
        }
        try writer.finish()
        return merged
    }

    /// Whether two provenances agree once the teachers' counts and statistics are set aside.
    static func sameExceptTallies(_ lhs: SoftLabelProvenance, _ rhs: SoftLabelProvenance) -> Bool {
        func cleared(_ provenance: SoftLabelProvenance) -> SoftLabelProvenance {
            var copy = provenance
            for index in copy.teachers.indices {
                copy.teachers[index].counts = [:]
                copy.teachers[index].statistics = TeacherStatistics()
            }
            return copy
        }
        return cleared(lhs) == cleared(rhs)
    }
}
