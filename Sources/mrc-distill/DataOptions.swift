import ArgumentParser

/// `--strict` of the commands that read SQuAD / MRQA files.
struct DataOptions: ParsableArguments {
    @Flag(help: ArgumentHelp("Refuse a data file with any record its reader would skip (an answer outside its context, a "
                             + "question without id, …), naming the file and record, instead of reporting the skip."))
    var strict = false
}
