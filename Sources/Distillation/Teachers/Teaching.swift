import Checkpoint
import Foundation
import MRC
import Training

/// `teach`: every teacher scores the student's training windows (or one shard of them), the ensemble
/// combines the scores, and the soft-label store receives one record per window, with the teachers'
/// counts and statistics in its provenance.
///
/// The windows are produced a chunk of questions at a time (`DistillationSource`) and scored in chunks of
/// `chunkSize` windows aligned to the shard blocks, so memory stays bounded whatever the data size: the
/// questions are held, a chunk of windows and their scores at a time.
public struct Teaching {
    public let source: DistillationSource
    /// The windows' count, fingerprint and chunk starts (`DistillationSource.survey`).
    public let survey: WindowSurvey
    public var windowCount: Int { survey.count }
    public let ensemble: TeacherEnsemble
    public let vocabulary: Vocabulary
    public let lowercase: Bool
    public let precision: SoftLabelProvenance.Precision
    public var shard: SoftLabelShard?
    /// Windows scored per teacher call (a multiple of `SoftLabelShard.blockSize`).
    public var chunkSize = 32 * SoftLabelShard.blockSize

    public init(source: DistillationSource, survey: WindowSurvey, ensemble: TeacherEnsemble,
                vocabulary: Vocabulary, lowercase: Bool, precision: SoftLabelProvenance.Precision, shard: SoftLabelShard?) {
        self.source = source; self.survey = survey
        self.ensemble = ensemble; self.vocabulary = vocabulary; self.lowercase = lowercase
        self.precision = precision; self.shard = shard
    }

    /// The provenance the store starts with (teachers without counts yet).
    public var provenance: SoftLabelProvenance {
        var provenance = DistillationData.provenance(vocabulary: vocabulary, lowercase: lowercase, settings: source.settings,
                                                     fingerprint: survey.fingerprint, windowCount: windowCount)
        provenance.teachers = zip(ensemble.teachers, ensemble.weights).map {
            SoftLabelProvenance.TeacherEntry(name: $0.name, kind: $0.kind, fingerprint: $0.fingerprint, weight: $1)
        }
        provenance.combination = ensemble.combination
        provenance.temperature = ensemble.temperature
        provenance.precision = precision
        provenance.shard = shard?.provenanceShard(windows: windowCount)
        return provenance
    }

    /// Scores, combines and writes the store at `url`; returns its final provenance.
    public func run(to url: URL, log: (String) -> Void = { _ in }, showProgress: Bool? = nil) throws -> SoftLabelProvenance {
        var final = provenance
        let range = shard?.range(windows: windowCount) ?? 0..<windowCount
        let writer = try SoftLabelStoreWriter(url: url, provenance: final)
        var statistics = [TeacherStatistics](repeating: TeacherStatistics(), count: ensemble.teachers.count)
        var seconds = [Double](repeating: 0, count: ensemble.teachers.count)
        let progress = ProgressCounter(label: "teach", total: range.count * ensemble.teachers.count, enabled: showProgress)
        var done = 0
        // Windows of the range wait in `pending` until a chunk is whole: chunks start at range.lowerBound + k·chunkSize,
        // multiples of the shard block, so a model teacher batches exactly as in any other sharding.
        var pending: [Window] = []
        func score() throws {
            guard !pending.isEmpty else { return }
            var scores: [[TeacherScores?]] = []
            for (index, teacher) in ensemble.teachers.enumerated() {
                let started = Date()
                let teacherScores = try teacher.score(examples: source.examples, windows: pending) { progress.update(done + $0) }
                guard teacherScores.count == pending.count else {
                    throw DistillationError("teacher \(teacher.name) returned \(teacherScores.count) scores for \(pending.count) windows")
                }
                seconds[index] += Date().timeIntervalSince(started)
                done += pending.count
                for (window, score) in zip(pending, teacherScores) {
                    if let score { statistics[index].add(score, window: window) }
                }
                scores.append(teacherScores)
            }
            for (offset, window) in pending.enumerated() {
                let combined = ensemble.combine(scores.map { $0[offset] })
                try writer.append(key: source.examples[window.exampleIndex].predictionKey, windowIndex: window.windowIndex,
                                  inputIdsHash: SoftLabelStoreFormat.inputIdsHash(of: window),
                                  startLogProbs: combined?.start, endLogProbs: combined?.end, length: window.length)
            }
            pending.removeAll(keepingCapacity: true)
        }
        // Chunks of questions wholly before the range are not featurised (the survey knows where they start).
        let firstChunk = survey.chunkStarts.lastIndex { $0 <= range.lowerBound } ?? 0
        var position = survey.chunkStarts.isEmpty ? 0 : survey.chunkStarts[firstChunk]
        let countsBefore = ensemble.teachers.map(\.counts)
        try source.forEachWindowChunk(from: range.lowerBound, skipping: survey.chunkStarts) { windows in
            for window in windows {
                defer { position += 1 }
                guard range.contains(position) else { continue }
                pending.append(window)
                if pending.count == chunkSize { try score() }
            }
        }
        try score()
        guard position == windowCount else {
            throw DistillationError("the data produced \(position) windows, the survey counted \(windowCount)")
        }
        // A teacher's counts run over its lifetime; this file's are those of this run's windows.
        let counts = zip(ensemble.teachers, countsBefore).map { teacher, before in
            Dictionary(uniqueKeysWithValues: teacher.counts.map { ($0.key, $0.value - (before[$0.key] ?? 0)) })
        }
        progress.finish()
        for (index, teacher) in ensemble.teachers.enumerated() {
            final.teachers[index].counts = counts[index]
            final.teachers[index].statistics = statistics[index]
            log(String(format: "%@ (%@): %d windows in %.1f s; %@", teacher.name, teacher.kind, range.count, seconds[index],
                       counts[index].sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")))
        }
        try writer.finish(provenance: final)
        return final
    }
}
