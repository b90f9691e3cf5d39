import Checkpoint
import Foundation

/// Whether a model directory was trained on data with unanswerable questions (SQuAD 2.0), so that it may
/// answer "no answer": `train` and `distill` record it in the model's config.json as
/// `"version_2_with_negative": true` (the name of Hugging Face run_qa's option). `transformers` keeps such
/// a key as a config attribute and loads the model unchanged; `BertConfig` keeps it in `extra`. `serve`
/// abstains for such a model (null-score threshold 0, as `predict` on SQuAD 2.0 data).
///
/// The key is set or removed on every export: a directory inherits its initial model's config.json, and a
/// model fine-tuned on SQuAD 1.1 from a SQuAD 2.0 one must not keep the mark.
public enum ModelAnswerability {
    public static let configKey = "version_2_with_negative"

    /// Whether `directory`'s config.json carries the mark.
    public static func isMarked(_ directory: URL) throws -> Bool {
        let config = try BertConfig.load(from: directory.appendingPathComponent("config.json"))
        return config.extra[configKey] == .bool(true)
    }

    /// Sets the mark in `directory`'s config.json when `unanswerableWindows` > 0, removes it otherwise;
    /// returns the line to report (nil when there is nothing to say).
    @discardableResult
    public static func record(in directory: URL, unanswerableWindows: Int) throws -> String? {
        let url = directory.appendingPathComponent("config.json")
        var config = try BertConfig.load(from: url)
        let had = config.extra[configKey] != nil
        if unanswerableWindows > 0 {
            config.extra[configKey] = .bool(true)
        } else {
            config.extra[configKey] = nil
        }
        guard unanswerableWindows > 0 || had else { return nil }
        try config.write(to: url)
        return unanswerableWindows > 0
            ? "trained on \(unanswerableWindows) windows of unanswerable questions: config.json records \(configKey) "
                + "(serve answers \"\" where the null score wins)"
            : "trained on answerable questions only: \(configKey) removed from config.json"
    }
}
