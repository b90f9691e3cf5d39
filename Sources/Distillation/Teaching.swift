import Checkpoint
import Foundation
import Training

/// `teach`: every teacher scores the student's training windows (or one shard of them), the ensemble
/// combines the scores, and the soft-label store receives one record per window, with the teachers'
/// counts and statistics in its provenance.
///
/// Windows go through in chunks of `chunkSize`, so memory stays bounded whatever the data size.
public struct Teaching {
    public let data: DistillationData
    public let ensemble: TeacherEnsemble
    public let vocabulary: Vocabulary
    public let lowercase: Bool
    public let precision: SoftLabelProvenance.Precision
    public let shard: SoftLabelShard?
    /// Windows scored per teacher call (a multiple of `SoftLabelShard.blockSize`).
    public var chunkSize = 32 * SoftLabelShard.blockSize

    public init(data: DistillationData, ensemble: TeacherEnsemble, vocabulary: Vocabulary, lowercase: Bool,
                precision: SoftLabelProvenance.Precision, shard: SoftLabelShard?) {
        self.data = data; self.ensemble = ensemble; self.vocabulary = vocabulary; self.lowercase = lowercase
        self.precision = precision; self.shard = shard
    }

    /// The provenance the store starts with (teachers without counts yet).
    public var provenance: SoftLabelProvenance {
        var provenance = data.provenance(vocabulary: vocabulary, lowercase: lowercase)
        provenance.teachers = zip(ensemble.teachers, ensemble.weights).map {
            SoftLabelProvenance.TeacherEntry(name: $0.name, kind: $0.kind, fingerprint: $0.fingerprint, weight: $1)
        }
        provenance.combination = ensemble.combination
        provenance.temperature = ensemble.temperature
        provenance.precision = precision
        provenance.shard = shard?.provenanceShard(windows: data.windows.count)
        return provenance
    }

    /// Scores, combines and writes the store at `url`; returns its final provenance.
    public func run(to url: URL, log: (String) -> Void = { _ in }, showProgress: Bool? = nil) throws -> SoftLabelProvenance {
        var final = provenance
        let range = shard?.range(windows: data.windows.count) ?? 0..<data.windows.count
        let writer = try SoftLabelStoreWriter(url: url, provenance: final)
        var statistics = [TeacherStatistics](repeating: TeacherStatistics(), count: ensemble.teachers.count)
        var seconds = [Double](repeating: 0, count: ensemble.teachers.count)
        let progress = ProgressCounter(label: "teach", total: range.count * ensemble.teachers.count, enabled: showProgress)
        var done = 0
        var chunkStart = range.lowerBound
        while chunkStart < range.upperBound {
            let chunk = chunkStart..<min(range.upperBound, chunkStart + chunkSize)
            let windows = Array(data.windows[chunk])
            var scores: [[TeacherScores?]] = []
            for (index, teacher) in ensemble.teachers.enumerated() {
                let started = Date()
                let teacherScores = try teacher.score(examples: data.examples, windows: windows) { progress.update(done + $0) }
                guard teacherScores.count == windows.count else {
                    throw DistillationError("teacher \(teacher.name) returned \(teacherScores.count) scores for \(windows.count) windows")
                }
                seconds[index] += Date().timeIntervalSince(started)
                done += windows.count
                for (window, score) in zip(windows, teacherScores) {
                    if let score { statistics[index].add(score, window: window) }
                }
                scores.append(teacherScores)
            }
            for (offset, position) in chunk.enumerated() {
                let window = data.windows[position]
                let combined = ensemble.combine(scores.map { $0[offset] })
                try writer.append(key: data.key(position), windowIndex: window.windowIndex,
                                  inputIdsHash: SoftLabelStoreFormat.inputIdsHash(of: window),
                                  startLogProbs: combined?.start, endLogProbs: combined?.end, length: window.length)
            }
            chunkStart = chunk.upperBound
        }
        progress.finish()
        for (index, teacher) in ensemble.teachers.enumerated() {
            final.teachers[index].counts = teacher.counts
            final.teachers[index].statistics = statistics[index]
            log(String(format: "%@ (%@): %d windows in %.1f s; %@", teacher.name, teacher.kind, range.count, seconds[index],
                       teacher.counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")))
        }
        try writer.finish(provenance: final)
        return final
    }
}
