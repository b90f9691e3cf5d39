import ArgumentParser
import Foundation
import Kernels
import Model

extension Precision: ExpressibleByArgument {}

/// `--precision` of the inference commands: the number format of the encoder's matmuls.
struct InferencePrecisionOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Matmul precision: fp32, bf16 (bf16 inputs, fp32 accumulation: autocast's scheme; AMX or "
                               + "AVX-512 BF16 through oneDNN) or int8 (per-channel int8 weights; activations with the static "
                               + "scales of the model directory's int8-calibration.json, `mrc-distill calibrate`, else per token).",
                               valueName: "fp32|bf16|int8"))
    var precision: Precision = .fp32
}

/// Says on stderr what runs the low-precision matmuls (nothing in fp32) and, in int8, how each of `models`
/// (directories) quantises its activations.
func announce(_ precision: Precision, models: [String] = []) {
    if precision != .fp32 { report("precision \(precision): \(LowPrecision.summary)") }
    guard precision == .int8 else { return }
    for model in models {
        let file = URL(fileURLWithPath: model).appendingPathComponent(Int8Calibration.fileName)
        report(FileManager.default.fileExists(atPath: file.path)
               ? "int8 \(model): static scales from \(Int8Calibration.fileName)"
               : "int8 \(model): per-token scales at every call (no \(Int8Calibration.fileName); `mrc-distill calibrate` makes one)")
    }
}
