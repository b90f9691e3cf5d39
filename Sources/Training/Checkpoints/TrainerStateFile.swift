import Checkpoint
import Foundation

extension TrainerState {
    /// Decodes `trainer_state.json` and checks that its counters are consistent (`validate`); errors name
    /// `file`, the field and, for bad JSON, the line and column.
    public static func decode(_ data: Data, file: String) throws -> TrainerState {
        let state: TrainerState
        do {
            state = try JSONDecoder().decode(TrainerState.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            throw TrainingError.invalidState("\(file): field `\(fieldPath(context.codingPath + [key]))` is missing")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw TrainingError.invalidState("\(file): field `\(fieldPath(context.codingPath))`: wrong type (\(context.debugDescription))")
        } catch let DecodingError.dataCorrupted(context) where !context.codingPath.isEmpty {
            throw TrainingError.invalidState("\(file): field `\(fieldPath(context.codingPath))`: \(context.debugDescription)")
        } catch {
            let reason = JSONSyntax.firstError(in: data).map { "not valid JSON at \($0)" } ?? "not a trainer state object"
            throw TrainingError.invalidState("\(file): \(reason)")
        }
        try state.validate(file: file)
        return state
    }

    /// Refuses counters no run writes: negative positions or counts, more steps done than planned, EMA
    /// updates beyond the steps, a generator state that is not four words (or all zero), a non-finite time.
    public func validate(file: String) throws {
        func refuse(_ field: String, _ reason: String) -> TrainingError {
            .invalidState("\(file): field `\(field)`: \(reason)")
        }
        for (field, value) in [("step", step), ("epoch", epoch), ("batchInEpoch", batchInEpoch), ("emaUpdates", emaUpdates),
                               ("tokensSeen", tokensSeen)] where value < 0 {
            throw refuse(field, "\(value) is negative")
        }
        guard totalSteps > 0 else { throw refuse("totalSteps", "\(totalSteps) is not positive") }
        guard step <= totalSteps else { throw refuse("step", "\(step) steps done of \(totalSteps) planned") }
        guard emaUpdates <= step else { throw refuse("emaUpdates", "\(emaUpdates) EMA updates after \(step) steps") }
        guard parameterCount > 0 else { throw refuse("parameterCount", "\(parameterCount) is not positive") }
        guard trainingSeconds.isFinite, trainingSeconds >= 0 else {
            throw refuse("trainingSeconds", "\(trainingSeconds) is not a finite, non-negative time")
        }
        guard generatorState.count == 4, !generatorState.allSatisfy({ $0 == 0 }) else {
            throw refuse("generatorState", "must be 4 words, not all zero; got \(generatorState.count) words")
        }
        for (index, cursor) in (auxiliaryCursors ?? []).enumerated() where cursor.epoch < 0 || cursor.batchInEpoch < 0 {
            throw refuse("auxiliaryCursors[\(index)]", "negative position (epoch \(cursor.epoch), batch \(cursor.batchInEpoch))")
        }
    }
}
