import Foundation
import Text
import Training

/// After `train` / `distill`: predicts each --dev file with the trained model (the EMA weights with
/// --ema) into OUT/dev and prints the EM/F1 table.
func evaluateDev(_ dev: [String], modelDirectory: URL, useEMA: Bool, windows: WindowOptions) throws {
    guard !dev.isEmpty else { return }
    let trainable = try BertSpanTrainable(directory: modelDirectory, weightsFile: useEMA ? "ema.safetensors" : nil)
    let tokenizer = trainable.tokenizer
    let predictor = try Predictor(model: trainable.model, tokenizer: tokenizer, windowSettings: windows.windowSettings,
                                  decoderSettings: windows.decoderSettings)
    let evaluation = try predictor.predictAll(files: dev.map(URL.init(fileURLWithPath:)),
                                              out: modelDirectory.appendingPathComponent("dev"), log: report)
    print(evaluation.table)
}
