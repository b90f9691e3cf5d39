import Foundation
import Training

extension Teaching {
    /// `teach` without `--shard`: the windows are labelled in parts of about `partWindows` (whole shard blocks),
    /// each written atomically into `<out>.parts/` as a shard store, then merged into `url` (byte-identical to a
    /// store written in one go) and the parts removed. A run that is stopped leaves its finished parts; the next
    /// run with the same windows, teachers and settings keeps them and labels only the rest.
    public func runResumably(to url: URL, partWindows: Int = 16 * 2048, log: (String) -> Void = { _ in },
                             showProgress: Bool? = nil) throws -> SoftLabelProvenance {
        guard shard == nil else { throw DistillationError("runResumably labels every window; it takes no shard") }
        let blocks = (windowCount + SoftLabelShard.blockSize - 1) / SoftLabelShard.blockSize
        let parts = min(blocks, max(1, (windowCount + partWindows - 1) / partWindows))
        guard parts > 1 else { return try run(to: url, log: log, showProgress: showProgress) }
        let directory = URL(fileURLWithPath: url.path + ".parts")
        do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
            throw DistillationError("cannot create \(directory.path): \(error.localizedDescription)")
        }
        var files: [URL] = []
        for index in 1...parts {
            var part = self
            part.shard = try SoftLabelShard(index: index, count: parts)
            let file = directory.appendingPathComponent("part-\(index)-of-\(parts).bin")
            files.append(file)
            if let finished = try? SoftLabelStore(url: file), Self.sameLabels(finished.provenance, part.provenance) {
                log("part \(index)/\(parts): labelled by an earlier run, kept")
                continue
            }
            log("part \(index)/\(parts): windows \(part.shard!.range(windows: windowCount))")
            _ = try part.run(to: file, log: log, showProgress: showProgress)
        }
        let merged = try SoftLabelMerge.merge(parts: files, into: url)
        try? FileManager.default.removeItem(at: directory)
        return merged
    }

    /// Whether a finished part was labelled for the same windows, by the same teachers, the same way (its
    /// counts and statistics are its own).
    static func sameLabels(_ stored: SoftLabelProvenance, _ expected: SoftLabelProvenance) -> Bool {
        var stored = stored
        for index in stored.teachers.indices where index < expected.teachers.count {
            stored.teachers[index].counts = expected.teachers[index].counts
            stored.teachers[index].statistics = expected.teachers[index].statistics
        }
        return stored == expected
    }
}
