import Foundation

/// A soft-label store as the span task's `SoftLabelSource`, after checking that it labels exactly the
/// student's windows: the provenance (vocabulary, lower-casing, window settings, data fingerprint,
/// window count; a shard is refused — merge first) and then every record's key, window index, length
/// and input-ids hash against the window it stands for.
public final class StoreSoftLabels: SoftLabelSource {
    public let store: SoftLabelStore

    public init(store: SoftLabelStore, data: DistillationData, expected: SoftLabelProvenance) throws {
        try store.check(expected: expected)
        if let shard = store.provenance.shard {
            throw SoftLabelStoreError(.shard, file: store.url.path, field: "shard",
                                      message: "holds shard \(shard.index)/\(shard.count) only: `mrc-distill merge` the shards first")
        }
        guard store.count == data.windows.count else {
            throw SoftLabelStoreError(.provenanceMismatch, file: store.url.path,
                                      message: "holds \(store.count) records for \(data.windows.count) windows")
        }
        for index in 0..<store.count {
            let window = data.windows[index]
            let fields: [(String, String, String)] = [
                ("key", store.key(at: index), data.key(index)),
                ("window index", "\(store.windowIndex(at: index))", "\(window.windowIndex)"),
                ("length", "\(store.length(at: index))", "\(window.length)"),
                ("input ids hash", "\(store.inputIdsHash(at: index))", "\(SoftLabelStoreFormat.inputIdsHash(of: window))"),
            ]
            if let (field, stored, expected) = fields.first(where: { $0.1 != $0.2 }) {
                throw SoftLabelStoreError(.provenanceMismatch, file: store.url.path, record: index,
                                          offset: store.recordOffset(at: index), field: field,
                                          message: "record \(index) has \(field) \(stored), the student's window \(expected)")
            }
        }
        self.store = store
    }

    public func softLabel(window: Int) -> (start: [Float], end: [Float])? {
        let length = store.length(at: window)
        var start = [Float](repeating: 0, count: length), end = start
        guard store.logProbabilities(at: window, start: &start, end: &end) else { return nil }
        return (start, end)
    }
}
