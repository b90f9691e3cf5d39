import Checkpoint
import Foundation

/// Reads the MRQA 2019 shared-task format: `.jsonl` or `.jsonl.gz`, an optional header line
/// `{"header": {"dataset": ..., "split": ...}}`, then one context per line with its `qas`.
///
/// `detected_answers[].char_spans` are inclusive `[start, end]` scalar offsets and are authoritative
/// (MRQA's `text` may differ from the context in case or spacing); `token_spans`, `context_tokens`,
/// `question_tokens` are optional and not used. Malformed lines or fields throw a `DataReadError`
/// naming file, line and field; spans outside the context are skipped and reported.
public enum MRQAReader {
    /// Reads a `.jsonl` or `.jsonl.gz` file; `dataset` overrides the header's name (default: header, else file stem).
    /// Lines are read one at a time (`ReadLimits` bound the longest).
    public static func read(_ url: URL, dataset: String? = nil) throws -> MRCDataset {
        var lines = try DataFile.lines(of: url)
        return try parse(&lines, file: url.path, dataset: dataset, fallbackName: DataFile.stem(of: url))
    }

    /// Parses MRQA lines from `data`; `file` names the source in errors and reports.
    public static func parse(_ data: Data, file: String, dataset: String? = nil,
                             fallbackName: String) throws -> MRCDataset {
        var lines = LineReader(MemorySource(data, file: file))
        return try parse(&lines, file: file, dataset: dataset, fallbackName: fallbackName)
    }

    static func parse(_ lines: inout LineReader, file: String, dataset: String?, fallbackName: String) throws -> MRCDataset {
        var report = ReadReport(file: file)
        var examples: [MRCExample] = []
        var name = dataset
        var isFirstRecord = true
        while let (number, bytes) = try lines.next() {
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            let location = "line \(number)"
            let value: Any
            do {
                value = try FoundationJSON.parse(bytes)
            } catch {
                throw DataReadError(file: file, location: location,
                                    message: "not valid JSON at \(JSONSyntax.explain(Data(bytes), refusal: error, line: number))")
            }
            let record = try JSONRecord(value, file: file, location: location)
            defer { isFirstRecord = false }
            if record.has("header") {
                guard isFirstRecord else { throw record.error("header", "a header is only allowed on the first line") }
                let header = try JSONRecord(record.object["header"]!, file: file, location: location, field: "header")
                if name == nil, let headerName = try header.optionalString("dataset") { name = headerName }
                continue
            }
            let context = ScalarText(try record.string("context"))
            report.contexts += 1
            for (qaIndex, qaValue) in try record.array("qas").enumerated() {
                let qa = try JSONRecord(qaValue, file: file, location: "\(location), qas[\(qaIndex)]").identified(by: "qid")
                examples.append(try readQuestion(qa, context: context, dataset: name ?? fallbackName, report: &report))
                report.questions += 1
            }
        }
        let datasetName = name ?? fallbackName
        for index in examples.indices { examples[index].dataset = datasetName }
        return MRCDataset(name: datasetName, file: file, format: .mrqa, examples: examples, report: report)
    }

    static func readQuestion(_ qa: JSONRecord, context: ScalarText, dataset: String,
                             report: inout ReadReport) throws -> MRCExample {
        let qid = try qa.string("qid")
        let question = try qa.string("question")
        let id = try qa.optionalString("id") ?? ""
        let isImpossible = try qa.bool("is_impossible", default: false)
        var texts: [String] = []
        for (index, value) in try qa.array("answers").enumerated() {
            guard let text = value as? String else {
                throw qa.error("answers[\(index)]", "expected a string, found \(JSONRecord.describe(value))")
            }
            texts.append(text)
        }
        var spans: [AnswerSpan] = []
        for (answerIndex, answerValue) in (try qa.optionalArray("detected_answers") ?? []).enumerated() {
            let field = "detected_answers[\(answerIndex)]"
            let answer = try JSONRecord(answerValue, file: qa.file, location: qa.location, field: field, recordId: qa.recordId)
            guard let charSpans = answer.object["char_spans"] as? [Any] else {
                throw qa.error(field + ".char_spans", answer.object["char_spans"] == nil ? "missing" : "expected an array")
            }
            for (spanIndex, spanValue) in charSpans.enumerated() {
                let spanField = "\(field).char_spans[\(spanIndex)]"
                guard let pair = spanValue as? [Any], pair.count == 2 else {
                    throw qa.error(spanField, "expected [start, end]")
                }
                let start = try JSONRecord.int(pair[0], field: spanField + "[0]", in: qa)
                let end = try JSONRecord.int(pair[1], field: spanField + "[1]", in: qa)
                if start < 0 || end < start || end >= context.count {
                    report.skip(.answerSpan, at: "\(qa.location).\(spanField)",
                                "[\(start), \(end)] is not an inclusive span of the context (\(context.count) characters)")
                    continue
                }
                spans.append(AnswerSpan(text: context.slice(start..<(end + 1)), characters: start..<(end + 1)))
            }
        }
        return MRCExample(id: id, qid: qid, question: question, context: context, answerTexts: texts,
                          answerSpans: spans, isImpossible: isImpossible, dataset: dataset)
    }
}
