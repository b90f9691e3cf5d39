import ArgumentParser
import Distillation
import Foundation
import Training

/// `mrc-distill demo`: the main job on the data shipped in data/demo — teachers, a student without and
/// with distillation, their comparison, and the HTML report.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "The main job on the embedded demo data: distil a teacher ensemble into a 3-layer student.",
        discussion: """
            On DATA (default data/demo: 4 SQuAD v1.1 articles for training, 1 held apart, the answers of five \
            published QA systems, a SubjQA slice): scores the five black-box teachers; fine-tunes --model (all \
            its layers) as a model teacher; labels the training windows with the six teachers' ensemble \
            (`teach`); trains the 3-layer student once without distillation (`train`: layers 0,2,4 of --model, \
            gold spans) and once with (`distill`: layers 0,2,4 of the teacher, as DistilBERT initialises, gold \
            spans + soft labels), same steps, seed and schedule; compares them on the held-apart article and the \
            SubjQA slice; writes OUT/report.html and OUT/report.md.
            """)

    @Option(help: "The embedded data directory.") var data = "data/demo"
    @Option(help: "The pretrained encoder (default: the installed all-MiniLM-L6-v2).") var model: String?
    @Option(help: "Output directory.") var out = "runs/demo"
    @Option(help: "Student layers of --model.") var layers = "0,2,4"
    @Option(help: "Training epochs of each student.") var epochs = 4.0
    @Option(name: .customLong("teacher-epochs"), help: "Fine-tuning epochs of the MiniLM teacher.") var teacherEpochs = 6.0

    func run() async throws {
        let modelPath = try model ?? minilmDirectory()
        let root = URL(fileURLWithPath: out)
        try? FileManager.default.removeItem(at: root)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let dataURL = URL(fileURLWithPath: data)
        let train = dataURL.appendingPathComponent("train-v1.1.json").path
        let dev = dataURL.appendingPathComponent("dev-v1.1.json")
        let ood = dataURL.appendingPathComponent("SubjQA-grocery-dev.jsonl.gz")
        let teacherFiles = try FileManager.default.contentsOfDirectory(atPath: dataURL.appendingPathComponent("teachers/train").path)
            .filter { $0.hasSuffix(".json") }.sorted()
        let windowArguments = ["--max-seq-len", "256", "--doc-stride", "128"]
        let windows = try WindowOptions.parse(windowArguments)
        let rowsURL = root.appendingPathComponent("rows.jsonl")

        print("== 1. Teachers: five published systems' answers on the held-apart article (official SQuAD v1.1 EM/F1)")
        var teacherRows: [ReportRow] = []
        for file in teacherFiles {
            let devAnswers = dataURL.appendingPathComponent("teachers/dev/\(file)")
            let score = try scoreBlackBox(devAnswers, on: dev)
            print("   " + (file as NSString).deletingPathExtension.padding(toLength: 22, withPad: " ", startingAt: 0)
                  + String(format: " EM %6.2f  F1 %6.2f", score.exactMatch, score.f1))
            teacherRows.append(ReportRow(name: (file as NSString).deletingPathExtension, kind: .teacher,
                                         command: "mrc-distill evaluate --data \(dev.path) --predictions \(devAnswers.path)",
                                         scores: [score]))
        }
        try appendRows(teacherRows, to: rowsURL)

        let common = ["--batch-size", "16", "--learning-rate", "3e-4",
                      "--ema-decay", "0.95", "--seed", "42", "--checkpoint-every", "1000", "--no-progress"] + windowArguments
        print("\n== 2. A model teacher: all-MiniLM-L6-v2, all 6 layers, fine-tuned on the training questions")
        let teacher = root.appendingPathComponent("teacher-minilm")
        let teacherArguments = ["--model", modelPath, "--train", train, "--out", teacher.path, "--epochs", String(teacherEpochs)] + common
        let teacherStarted = Date()
        try await TrainCommand.parse(teacherArguments).run()
        let teacherSeconds = Date().timeIntervalSince(teacherStarted)
        let teacherScores = try scoreModel(teacher, ema: true, files: [dev, ood], windows: windows,
                                           out: teacher.appendingPathComponent("eval"))
        print(String(format: "   MiniLM-L6 teacher: article EM %.2f F1 %.2f | SubjQA F1 %.2f", teacherScores.datasets[0].exactMatch,
                     teacherScores.datasets[0].f1, teacherScores.datasets[1].f1))
        try appendRows([ReportRow(name: "MiniLM-L6 teacher (fine-tuned here)", kind: .teacher,
                                  command: "mrc-distill train " + teacherArguments.joined(separator: " "),
                                  scores: teacherScores.datasets, parameters: teacherScores.parameters,
                                  tokensPerSecond: teacherScores.tokensPerSecond, distillSeconds: teacherSeconds,
                                  model: teacher.path, metrics: teacher.appendingPathComponent("metrics.jsonl").path)], to: rowsURL)

        print("\n== 3. teach: the six teachers label the student's training windows (mean of probabilities)")
        let labels = root.appendingPathComponent("soft-labels.bin")
        let teachArguments = ["--student", modelPath, "--data", train, "--out", labels.path, "--no-progress", "--teacher-ema",
                              "--teacher", "minilm=\(teacher.path)"] + windowArguments
            + teacherFiles.flatMap { ["--teacher", dataURL.appendingPathComponent("teachers/train/\($0)").path] }
        let teachStarted = Date()
        try await TeachCommand.parse(teachArguments).run()
        let teachSeconds = Date().timeIntervalSince(teachStarted)
        let studentCommon = ["--layers", layers, "--epochs", String(epochs)] + common
        print("\n== 4. The \(layers.split(separator: ",").count)-layer student without distillation (gold spans only)")
        let baseline = root.appendingPathComponent("student-baseline")
        let baselineArguments = ["--model", modelPath, "--train", train, "--out", baseline.path] + studentCommon
        let baselineStarted = Date()
        try await TrainCommand.parse(baselineArguments).run()
        let baselineSeconds = Date().timeIntervalSince(baselineStarted)

        print("\n== 5. The student distilled: the teacher's layers \(layers) (as DistilBERT initialises), trained on gold spans "
              + "+ the six teachers' soft labels (0.5 · CE + 0.5 · T² · KL, T = 2), same steps, seed and schedule")
        let distilled = root.appendingPathComponent("student-distilled")
        let distillArguments = ["--student", teacher.path, "--soft-labels", labels.path, "--train", train, "--out", distilled.path]
            + studentCommon
        let distillStarted = Date()
        try await DistillCommand.parse(distillArguments).run()
        let distillSeconds = Date().timeIntervalSince(distillStarted)

        print("\n== 6. Held-apart article (in-domain) and SubjQA grocery reviews (out-of-domain), EMA weights")
        var studentRows: [ReportRow] = []
        for (name, directory, arguments, seconds, teach, command) in [
            ("student, no KD", baseline, baselineArguments, baselineSeconds, nil as Double?, "train"),
            ("student, KD", distilled, distillArguments, distillSeconds, teachSeconds, "distill"),
        ] {
            let scores = try scoreModel(directory, ema: true, files: [dev, ood], windows: windows,
                                        out: directory.appendingPathComponent("eval"))
            print("   " + name.padding(toLength: 16, withPad: " ", startingAt: 0) + String(format: " article EM %6.2f F1 %6.2f | SubjQA EM %6.2f F1 %6.2f | %.0f tokens/s",
                         scores.datasets[0].exactMatch, scores.datasets[0].f1, scores.datasets[1].exactMatch, scores.datasets[1].f1,
                         scores.tokensPerSecond))
            studentRows.append(ReportRow(name: name, kind: .student,
                                         command: "mrc-distill \(command) " + arguments.joined(separator: " "),
                                         scores: scores.datasets, parameters: scores.parameters,
                                         tokensPerSecond: scores.tokensPerSecond, teachSeconds: teach, distillSeconds: seconds,
                                         model: directory.path, metrics: directory.appendingPathComponent("metrics.jsonl").path))
        }
        try appendRows(studentRows, to: rowsURL)
        let gain = studentRows[1].squadF1 - studentRows[0].squadF1
        print(String(format: "\n   distillation: %+.2f F1 on the held-apart article", gain))

        let report = try DistillationReport.load(rowsFile: rowsURL, title: "mrc-distill demo: six teachers (five black-box, one MiniLM) → a 3-layer student")
        let written = try report.write(to: root)
        print("\n== 7. Report: \(written.html.path) (and \(written.markdown.lastPathComponent))")
        print("   The distilled student (Hugging Face layout, loads in transformers): \(distilled.path)")
    }

    /// The installed all-MiniLM-L6-v2 (scripts/minilm-dir).
    private func minilmDirectory() throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["bash", "scripts/minilm-dir"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let path = output.trimmingCharacters(in: .whitespacesAndNewlines)
        guard process.terminationStatus == 0, !path.isEmpty else {
            throw ValidationError("the pretrained encoder is not installed: run scripts/setup, or give --model")
        }
        return path
    }
}
