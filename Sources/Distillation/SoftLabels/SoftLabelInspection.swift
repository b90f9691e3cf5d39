import Foundation

/// What `mrc-distill inspect` prints about a soft-label store.
extension SoftLabelStore {
    /// Labelled/unlabelled record counts and the mean entropy (nats) of the ensemble's start and end
    /// distributions over the labelled records, computed from the stored log-probabilities (values at
    /// the floor count as probability 0).
    public struct RecordSummary: Sendable, Equatable {
        public var labelled = 0
        public var unlabelled = 0
        public var meanStartEntropy = 0.0
        public var meanEndEntropy = 0.0
        /// Largest |Σ exp(log p) − 1| over all rows (the 16-bit rounding's effect).
        public var largestMassError = 0.0
    }

    /// Reads every record once.
    public func recordSummary() -> RecordSummary {
        var summary = RecordSummary()
        let longest = (0..<count).map { length(at: $0) }.max() ?? 0
        var start = [Float](repeating: 0, count: longest)
        var end = start
        var startEntropy = 0.0
        var endEntropy = 0.0
        for index in 0..<count {
            guard logProbabilities(at: index, start: &start, end: &end) else { summary.unlabelled += 1; continue }
            summary.labelled += 1
            let length = self.length(at: index)
            let startRow = SoftLabelStore.entropyAndMass(start, length: length)
            let endRow = SoftLabelStore.entropyAndMass(end, length: length)
            startEntropy += startRow.entropy
            endEntropy += endRow.entropy
            summary.largestMassError = max(summary.largestMassError, abs(startRow.mass - 1), abs(endRow.mass - 1))
        }
        if summary.labelled > 0 {
            summary.meanStartEntropy = startEntropy / Double(summary.labelled)
            summary.meanEndEntropy = endEntropy / Double(summary.labelled)
        }
        return summary
    }

    /// −Σ p log p and Σ p of one row of log-probabilities (values near the floor count as p = 0).
    static func entropyAndMass(_ row: [Float], length: Int) -> (entropy: Double, mass: Double) {
        var entropy = 0.0
        var mass = 0.0
        for value in row[0..<length] where value > SoftLabelStoreFormat.logZeroFloor + 100 {
            let p = Foundation.exp(Double(value))
            entropy -= p * Double(value)
            mass += p
        }
        return (entropy, mass)
    }

    /// A human-readable report: provenance, per-teacher counts and statistics, records.
    public func summary() -> String {
        let p = provenance
        var lines: [String] = []
        lines.append("\(url.path): soft-label store v\(SoftLabelStoreFormat.version), \(fileSize) bytes, \(count) records")
        if let shard = p.shard {
            lines.append("shard \(shard.index)/\(shard.count): windows \(shard.firstWindow)..<\(shard.firstWindow + shard.windowCount) of \(p.windowCount)")
        }
        lines.append("combination \(p.combination.rawValue), temperature \(p.temperature), precision \(p.precision.rawValue)")
        lines.append("student: vocab hash \(p.studentVocabHash), lower_case \(p.lowerCase), max_seq_len \(p.maxSeqLen), "
                     + "doc_stride \(p.docStride), max_query_len \(p.maxQueryLen)")
        lines.append("data fingerprint \(p.dataFingerprint), \(p.windowCount) windows")
        lines.append("teachers:")
        for teacher in p.teachers {
            let s = teacher.statistics
            lines.append("  \(teacher.name) (\(teacher.kind), weight \(teacher.weight), \(teacher.fingerprint))")
            lines.append(String(format: "    windows scored %d; gold start agreement %d/%d (%.1f%%); mean entropy start %.3f, end %.3f nats",
                                s.windowsScored, s.goldAgreement, s.goldWindows, 100 * s.goldAgreementRate,
                                s.meanStartEntropy, s.meanEndEntropy))
            if let warning = s.collapseWarning(teacher: teacher.name) { lines.append("    " + warning) }
            if !teacher.counts.isEmpty {
                lines.append("    " + teacher.counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
            }
        }
        let records = recordSummary()
        lines.append(String(format: "records: %d labelled, %d unlabelled; ensemble mean entropy start %.3f, end %.3f nats; "
                            + "largest |Σp − 1| %.2e", records.labelled, records.unlabelled,
                            records.meanStartEntropy, records.meanEndEntropy, records.largestMassError))
        return lines.joined(separator: "\n")
    }
}
