import ArgumentParser
import MRC

/// `--strict` and the reading limits of the commands that read SQuAD / MRQA and prediction files.
struct DataOptions: ParsableArguments {
    @Flag(help: ArgumentHelp("Refuse a data file with any record its reader would skip (an answer outside its context, a "
                             + "question without id, …) or the featurisation would leave out (an answer that covers no "
                             + "token), naming the file and record, instead of reporting the skip."))
    var strict = false

    @Option(help: ArgumentHelp("The longest JSON text read at once, in MiB: a JSONL line, or a whole .json file."))
    var maxRecordMb = ReadLimits.standard.maxRecordBytes >> 20

    @Option(help: ArgumentHelp("The most MiB one data file may hold (decompressed, for .gz)."))
    var maxFileMb = ReadLimits.standard.maxFileBytes >> 20

    /// Checks the limits and makes them the process's (`ReadLimits.shared`): every reader applies them.
    mutating func validate() throws {
        guard maxRecordMb > 0, maxFileMb > 0 else { throw ValidationError("--max-record-mb and --max-file-mb must be positive") }
        guard maxRecordMb <= Int.max >> 20, maxFileMb <= Int.max >> 20 else { throw ValidationError("--max-record-mb / --max-file-mb: too large") }
        ReadLimits.shared = ReadLimits(maxRecordBytes: maxRecordMb << 20, maxFileBytes: maxFileMb << 20)
    }
}
