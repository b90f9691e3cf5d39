import ArgumentParser
import Kernels

extension Precision: ExpressibleByArgument {}

/// `--precision` of the inference commands: the number format of the encoder's matmuls.
struct InferencePrecisionOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Matmul precision: fp32, bf16 (bf16 inputs, fp32 accumulation: autocast's scheme; AMX or "
                               + "AVX-512 BF16 through oneDNN) or int8 (per-channel int8 weights, dynamic u8 activations).",
                               valueName: "fp32|bf16|int8"))
    var precision: Precision = .fp32
}

/// Says on stderr what runs the low-precision matmuls (nothing in fp32).
func announce(_ precision: Precision) {
    if precision != .fp32 { report("precision \(precision): \(LowPrecision.summary)") }
}
