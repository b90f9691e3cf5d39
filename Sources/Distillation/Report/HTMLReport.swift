/// The report as one self-contained HTML page: inline CSS, inline SVG charts, no scripts, nothing
/// fetched. Every string from the data is escaped.
enum HTMLReport {
    static func render(_ report: DistillationReport) -> String {
        let rows = report.rows
        var body = ["<h1>\(escape(report.title))</h1>"]
        if rows.isEmpty {
            body.append("<p>No rows.</p>")
            return page(title: report.title, body: body)
        }
        body += ["<h2>Summary</h2>", table(ReportTable.summary(rows)),
                 "<p class=\"note\">Scores are percentages. Out-of-domain macro-F1 is the unweighted mean of a row's "
                    + "per-dataset F1 (in-domain macro-F1 likewise, under MRQA's protocol); teach s (labelling) and train s "
                    + "(fine-tuning or distillation) are wall times; inference s / 1k questions is predict's end-to-end wall time."
                    + (ReportTable.isSQuAD2(rows) ? " " + escape(ReportTable.squad2Note) : "") + "</p>"]
        if let outOfDomain = ReportTable.outOfDomain(rows) {
            body += ["<h2>Out-of-domain F1 per dataset</h2>", table(outOfDomain)]
        }
        body.append("<h2>Scores</h2>")
        let mrqa = ReportTable.isMRQA(rows)
        let bars = BarChart(title: mrqa ? "In-domain macro-F1" : "SQuAD dev F1", axisLabel: "F1 (%)",
                            bars: rows.map { BarChart.Bar(label: $0.name, value: mrqa ? $0.inDomainMacroF1 : $0.squadF1, kind: $0.kind) })
        body += figure(bars.render())
        if !ReportTable.outOfDomainDatasets(rows).isEmpty {
            body += figure(GroupedBarChart.outOfDomain(rows).render())
        }
        body += curves(report)
        body += ["<h2>Commands</h2>", commands(rows)]
        return page(title: report.title, body: body)
    }

    static func escape(_ text: String) -> String { HTMLEscaping.escape(text) }

    static func page(title: String, body: [String]) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escape(title))</title>
        <style>\(style)</style>
        </head>
        <body>
        \(body.joined(separator: "\n"))
        </body>
        </html>

        """
    }

    static let style = """

        body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222; margin: 24px auto; max-width: 1100px; padding: 0 16px; line-height: 1.4; }
        h1 { font-size: 1.6em; margin-bottom: 0.4em; } h2 { font-size: 1.25em; margin-top: 1.8em; border-bottom: 1px solid #ddd; padding-bottom: 4px; } h3 { font-size: 1.05em; margin: 1.2em 0 0.3em; }
        table { border-collapse: collapse; font-size: 0.9em; margin: 8px 0; }
        th, td { border: 1px solid #d8d8d8; padding: 4px 9px; } th { background: #f3f4f6; text-align: left; vertical-align: bottom; }
        td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; } tr:nth-child(even) td { background: #fafafa; }
        tr.teacher td:first-child { border-left: 4px solid \(BarChart.teacherColour); } tr.student td:first-child { border-left: 4px solid \(BarChart.studentColour); }
        figure { margin: 12px 0 20px; overflow-x: auto; } figcaption, .note { color: #666; font-size: 0.85em; }
        ul.notes { color: #8a5a00; font-size: 0.85em; margin: 2px 0 12px; }
        code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 0.85em; background: #f3f4f6; padding: 2px 4px; border-radius: 3px; word-break: break-all; }
        ul.commands li { margin-bottom: 8px; } svg { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }

        """

    /// A table; a row of the summary or out-of-domain table is marked teacher/student by its kind cell.
    static func table(_ table: ReportTable) -> String {
        func cells(_ values: [String], tag: String) -> String {
            zip(values, table.numeric).map { value, numeric in
                "<\(tag)\(numeric ? " class=\"num\"" : "")>\(escape(value))</\(tag)>"
            }.joined()
        }
        var lines = ["<table>", "<thead><tr>\(cells(table.header, tag: "th"))</tr></thead>", "<tbody>"]
        for row in table.rows {
            let kind = row.count > 1 && (row[1] == "teacher" || row[1] == "student") ? " class=\"\(row[1])\"" : ""
            lines.append("<tr\(kind)>\(cells(row, tag: "td"))</tr>")
        }
        lines += ["</tbody>", "</table>"]
        return lines.joined(separator: "\n")
    }

    /// A chart in a figure, with its notes; only the notes when there is nothing to draw.
    static func figure(_ chart: (svg: String?, notes: [String]), caption: String? = nil) -> [String] {
        var parts: [String] = []
        if let svg = chart.svg {
            parts.append("<figure>\n\(svg)" + (caption.map { "\n<figcaption>\(escape($0))</figcaption>" } ?? "") + "\n</figure>")
        }
        parts += notes(chart.notes)
        return parts
    }

    static func notes(_ notes: [String]) -> [String] {
        guard !notes.isEmpty else { return [] }
        return ["<ul class=\"notes\">" + notes.map { "<li>\(escape($0))</li>" }.joined() + "</ul>"]
    }

    /// One section per row with a metrics log: its loss charts per task.
    static func curves(_ report: DistillationReport) -> [String] {
        let withMetrics = report.entries.filter { $0.row.metrics != nil }
        guard !withMetrics.isEmpty else { return [] }
        let window = report.smoothing
        var parts = ["<h2>Training curves</h2>",
                     "<p class=\"note\">Thin lines: the logged values; thick lines: their trailing moving average over the "
                        + "last \(window) logged step\(window == 1 ? "" : "s") (fewer at the start). Non-finite values are left out.</p>"]
        for entry in withMetrics {
            parts.append("<h3>\(escape(entry.row.name))</h3>")
            if let note = entry.metricsNote { parts += notes([note]); continue }
            let charts = report.lossCharts(entry)
            if charts.isEmpty { parts += notes(["\(entry.row.metrics ?? ""): no metrics lines"]) }
            for chart in charts { parts += figure(chart.render()) }
        }
        return parts
    }

    static func commands(_ rows: [ReportRow]) -> String {
        var items: [String] = []
        for row in rows {
            var item = "<li><strong>\(escape(row.name))</strong> (\(escape(row.kind.rawValue)))<br><code>\(escape(row.command))</code>"
            var details: [String] = []
            if let model = row.model { details.append("model: <code>\(escape(model))</code>") }
            if let metrics = row.metrics { details.append("metrics: <code>\(escape(metrics))</code>") }
            if let notes = row.notes, !notes.isEmpty { details.append("notes: \(escape(notes))") }
            if !details.isEmpty { item += "<br><span class=\"note\">\(details.joined(separator: " · "))</span>" }
            items.append(item + "</li>")
        }
        return "<ul class=\"commands\">\n" + items.joined(separator: "\n") + "\n</ul>"
    }
}
