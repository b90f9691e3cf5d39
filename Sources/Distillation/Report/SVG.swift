import Foundation

/// The rectangle of a chart's plotting area, in SVG user units (y grows downwards).
public struct PlotBox: Sendable, Equatable {
    public var left: Double
    public var top: Double
    public var width: Double
    public var height: Double

    public init(left: Double, top: Double, width: Double, height: Double) {
        self.left = left; self.top = top; self.width = width; self.height = height
    }

    public var right: Double { left + width }
    public var bottom: Double { top + height }

    /// Whether a point lies in the box (edges included, with a little slack for rounding).
    public func contains(x: Double, y: Double) -> Bool {
        x >= left - 0.05 && x <= right + 0.05 && y >= top - 0.05 && y <= bottom + 0.05
    }
}

/// Small builders of SVG elements for inline use in HTML (hence no namespace declaration); every
/// text goes through `HTMLEscaping`.
enum SVG {
    static func number(_ value: Double) -> String { String(format: "%.1f", value) }

    static func document(width: Double, height: Double, label: String, body: [String]) -> String {
        "<svg width=\"\(number(width))\" height=\"\(number(height))\" "
            + "viewBox=\"0 0 \(number(width)) \(number(height))\" role=\"img\" aria-label=\"\(HTMLEscaping.escape(label))\">\n"
            + body.joined(separator: "\n") + "\n</svg>"
    }

    static func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String, width: Double = 1,
                     dash: String? = nil) -> String {
        "<line x1=\"\(number(x1))\" y1=\"\(number(y1))\" x2=\"\(number(x2))\" y2=\"\(number(y2))\" stroke=\"\(stroke)\" "
            + "stroke-width=\"\(number(width))\"" + (dash.map { " stroke-dasharray=\"\($0)\"" } ?? "") + "/>"
    }

    static func rect(_ x: Double, _ y: Double, _ width: Double, _ height: Double, fill: String, title: String? = nil) -> String {
        let shape = "<rect x=\"\(number(x))\" y=\"\(number(y))\" width=\"\(number(max(0, width)))\" "
            + "height=\"\(number(max(0, height)))\" fill=\"\(fill)\""
        guard let title else { return shape + "/>" }
        return shape + "><title>\(HTMLEscaping.escape(title))</title></rect>"
    }

    static func text(_ x: Double, _ y: Double, _ content: String, anchor: String = "start", size: Double = 11,
                     weight: String? = nil, fill: String = "#333", rotate: Double? = nil) -> String {
        var attributes = "x=\"\(number(x))\" y=\"\(number(y))\" text-anchor=\"\(anchor)\" font-size=\"\(number(size))\" fill=\"\(fill)\""
        if let weight { attributes += " font-weight=\"\(weight)\"" }
        if let rotate { attributes += " transform=\"rotate(\(number(rotate)) \(number(x)) \(number(y)))\"" }
        return "<text \(attributes)>\(HTMLEscaping.escape(content))</text>"
    }

    static func polyline(_ points: [(x: Double, y: Double)], stroke: String, width: Double, opacity: Double = 1) -> String {
        let list = points.map { "\(number($0.x)),\(number($0.y))" }.joined(separator: " ")
        return "<polyline fill=\"none\" stroke=\"\(stroke)\" stroke-width=\"\(number(width))\" stroke-opacity=\"\(number(opacity))\" "
            + "stroke-linejoin=\"round\" points=\"\(list)\"/>"
    }

    /// A label cut to `limit` characters with an ellipsis (the full text goes in a tooltip elsewhere).
    static func shorten(_ text: String, to limit: Int) -> String {
        text.count <= limit ? text : String(text.prefix(max(1, limit - 1))) + "…"
    }

    /// A rough width of a label in the charts' sans-serif font.
    static func textWidth(_ text: String, size: Double = 11) -> Double { Double(text.count) * size * 0.58 }

    /// Distinct colours for series and rows, reused in order.
    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2",
                          "#7f7f7f", "#bcbd22"]

    static func colour(_ index: Int) -> String { palette[index % palette.count] }
}
