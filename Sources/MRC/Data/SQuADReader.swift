import Checkpoint
import Foundation

/// Reads the official SQuAD JSON (`version`, `data[].paragraphs[].qas[]`), v1.1 or v2.0.
///
/// Missing or mistyped fields throw a `DataReadError` naming the record path and field. An answer
/// whose `answer_start` does not point at its text in the context is left out of `answerSpans`
/// (its text stays in `answerTexts` for evaluation) and listed in the `ReadReport`.
public enum SQuADReader {
    /// Reads a SQuAD JSON file; the dataset is named `dataset` or after the file.
    public static func read(_ url: URL, dataset: String? = nil) throws -> MRCDataset {
        try parse(DataFile.contents(of: url), file: url.path, dataset: dataset ?? DataFile.stem(of: url))
    }

    /// Parses SQuAD JSON from `data`; `file` names the source in errors and reports.
    public static func parse(_ data: Data, file: String, dataset: String) throws -> MRCDataset {
        let root: JSONRecord
        do {
            root = try JSONRecord(FoundationJSON.parse(data), file: file, location: "top level")
        } catch let error as DataReadError {
            throw error
        } catch {
            throw DataReadError(file: file, message: "not valid JSON at \(JSONSyntax.explain(data, refusal: error))")
        }
        let version = (try? root.string("version")) ?? ""
        var report = ReadReport(file: file)
        var examples: [MRCExample] = []
        var sawImpossible = false
        for (articleIndex, articleValue) in try root.array("data").enumerated() {
            let article = try JSONRecord(articleValue, file: file, location: "data[\(articleIndex)]")
            for (paragraphIndex, paragraphValue) in try article.array("paragraphs").enumerated() {
                let paragraph = try JSONRecord(paragraphValue, file: file,
                                               location: "\(article.location).paragraphs[\(paragraphIndex)]")
                let context = ScalarText(try paragraph.string("context"))
                report.contexts += 1
                for (qaIndex, qaValue) in try paragraph.array("qas").enumerated() {
                    let qa = try JSONRecord(qaValue, file: file, location: "\(paragraph.location).qas[\(qaIndex)]").identified(by: "id")
                    let example = try readQuestion(qa, context: context, dataset: dataset, report: &report)
                    sawImpossible = sawImpossible || example.isImpossible
                    examples.append(example)
                    report.questions += 1
                }
            }
        }
        let format: MRCDataset.Format = version.hasPrefix("v2") || sawImpossible ? .squad2 : .squad1
        if format == .squad2 { for index in examples.indices { examples[index].allowsNoAnswer = true } }
        return MRCDataset(name: dataset, file: file, format: format, examples: examples, report: report)
    }

    static func readQuestion(_ qa: JSONRecord, context: ScalarText, dataset: String,
                             report: inout ReadReport) throws -> MRCExample {
        let id = try qa.string("id")
        let question = try qa.string("question")
        let isImpossible = try qa.bool("is_impossible", default: false)
        var texts: [String] = []
        var spans: [AnswerSpan] = []
        for (answerIndex, answerValue) in try qa.array("answers").enumerated() {
            let field = "answers[\(answerIndex)]"
            let answer = try JSONRecord(answerValue, file: qa.file, location: qa.location, field: field, recordId: qa.recordId)
            guard let text = answer.object["text"] as? String else {
                throw qa.error(field + ".text", answer.object["text"] == nil ? "missing" : "expected a string")
            }
            let start = try JSONRecord.int(answer.object["answer_start"], field: field + ".answer_start", in: qa)
            texts.append(text)
            if isImpossible { continue }
            let end = start + text.unicodeScalars.count
            if start < 0 || end > context.count {
                report.skip(.answerSpan, at: "\(qa.location).\(field)",
                            "answer_start \(start) + length puts the answer outside the context (\(context.count) characters)")
            } else if context.scalars[start..<end].elementsEqual(text.unicodeScalars) {
                spans.append(AnswerSpan(text: text, characters: start..<end))
            } else {
                report.skip(.answerSpan, at: "\(qa.location).\(field)",
                            "the context at answer_start \(start) reads \"\(context.slice(start..<end))\", not the answer text")
            }
        }
        return MRCExample(id: id, question: question, context: context, answerTexts: texts, answerSpans: spans,
                          isImpossible: isImpossible, dataset: dataset)
    }
}
