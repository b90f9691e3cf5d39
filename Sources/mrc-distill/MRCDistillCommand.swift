import ArgumentParser

@main
struct MRCDistillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mrc-distill",
        abstract: "Distil an ensemble of extractive QA models into one small, fast BERT student, and run it.",
        subcommands: [
            // Each subcommand lives in its own file, named after it.
            ForwardCommand.self,
            TokenizeCommand.self,
            EvaluateCommand.self,
            FeaturesCommand.self,
            TrainCommand.self,
            PredictCommand.self,
            CalibrateCommand.self,
            TeachCommand.self,
            MergeCommand.self,
            InspectCommand.self,
            DistillCommand.self,
            InitCommand.self,
            ScoreCommand.self,
            ReportCommand.self,
            DemoCommand.self,
            ServeCommand.self,
        ]
    )
}
