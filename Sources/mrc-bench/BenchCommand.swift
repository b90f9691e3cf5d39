import ArgumentParser

@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mrc-bench",
        abstract: "Side-by-side speed and memory benchmark of the Swift BERT engine against PyTorch.",
        subcommands: [EngineBenchCommand.self, KernelsBenchCommand.self, AllreduceBenchCommand.self, DistillStepBenchCommand.self,
                      ArchitecturesBenchCommand.self]
    )
}
