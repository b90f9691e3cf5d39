import Foundation
import XCTest
@testable import Distillation

/// The plotting code: smoothing, scales, coordinates.
final class ReportPlotTests: XCTestCase {
    func testTrailingMovingAverage() {
        let smoothed = MovingAverage.trailing([1, 2, 3, 4, 5], window: 3)
        for (value, expected) in zip(smoothed, [1, 1.5, 2, 3, 4]) { XCTAssertEqual(value, expected, accuracy: 1e-12) }
        XCTAssertEqual(MovingAverage.trailing([4, 8], window: 0), [4, 8])
        XCTAssertEqual(MovingAverage.trailing([], window: 5), [])
        let finite = MovingAverage.finitePoints(steps: [1, 2, 3], values: [1, .nan, -.infinity])
        XCTAssertEqual(finite.steps, [1])
        XCTAssertEqual(finite.dropped, 2)
    }

    func testNiceScale() {
        let scale = NiceScale(minimum: 0.37, maximum: 6.2, targetTicks: 6)
        XCTAssertEqual(scale.lower, 0)
        XCTAssertEqual(scale.upper, 8)
        XCTAssertEqual(scale.step, 2)
        XCTAssertEqual(scale.ticks, [0, 2, 4, 6, 8])
        let flat = NiceScale(minimum: 5, maximum: 5)
        XCTAssertLessThan(flat.lower, 5)
        XCTAssertGreaterThan(flat.upper, 5)
        XCTAssertEqual(NiceScale(minimum: 0, maximum: 100).ticks, [0, 20, 40, 60, 80, 100])
    }

    /// Every point of every polyline lies in the plot box, the curve's ends sit on the box's edges.
    func testPolylinePointsInsidePlotBox() throws {
        let steps = Array(stride(from: 10, through: 500, by: 10))
        let values = steps.map { 4 * exp(-Double($0) / 150) + 0.5 }
        let chart = LineChart(title: "t", series: [LossSeries(task: "mrc", term: "hard", steps: steps, values: values)],
                              smoothing: 5)
        let svg = try XCTUnwrap(chart.render().svg)
        let lines = Self.polylines(svg)
        XCTAssertEqual(lines.count, 2, "raw and smoothed")
        for line in lines {
            XCTAssertEqual(line.count, steps.count)
            for point in line { XCTAssertTrue(chart.box.contains(x: point.x, y: point.y), "\(point) outside \(chart.box)") }
            let xs = line.map(\.x)
            XCTAssertEqual(xs, xs.sorted(), "steps increase left to right")
        }
        // Loss falls: the raw curve's last point is lower on the page (larger y is lower value).
        XCTAssertLessThan(lines[0].first!.y, lines[0].last!.y)
        let (xScale, yScale) = try XCTUnwrap(chart.scales(chart.plotted.series))
        XCTAssertEqual(lines[0][0].x, xScale.map(10, from: chart.box.left, to: chart.box.right), accuracy: 0.06)
        XCTAssertEqual(lines[0][0].y, yScale.map(values[0], from: chart.box.bottom, to: chart.box.top), accuracy: 0.06)
    }

    func testLongSeriesIsThinned() throws {
        let count = 4321
        let chart = LineChart(title: "t", series: [LossSeries(task: "", term: "loss", steps: Array(0..<count),
                                                              values: (0..<count).map { Double($0 % 7) })], smoothing: 50)
        let lines = Self.polylines(try XCTUnwrap(chart.render().svg))
        XCTAssertLessThanOrEqual(lines[0].count, LineChart.maximumPoints + 1)
        let xScale = try XCTUnwrap(chart.scales(chart.plotted.series)).x
        XCTAssertEqual(lines[0].last!.x, xScale.map(Double(count - 1), from: chart.box.left, to: chart.box.right), accuracy: 0.06)
    }

    func testBarsStartAtZeroAndEndAtTheirValue() throws {
        let chart = BarChart(title: "F1", axisLabel: "F1", bars: [.init(label: "a", value: 50, kind: .teacher),
                                                               .init(label: "b", value: 100, kind: .student)])
        let svg = try XCTUnwrap(chart.render().svg)
        let box = chart.box(count: 2)
        let widths = Self.matches(##"<rect x="([0-9.]+)" y="[0-9.]+" width="([0-9.]+)" height="18.0" fill="#"##, in: svg)
        XCTAssertEqual(widths.count, 2)
        XCTAssertEqual(Double(widths[0][0])!, box.left, accuracy: 0.06)
        XCTAssertEqual(Double(widths[0][1])!, box.width / 2, accuracy: 0.06)
        XCTAssertEqual(Double(widths[1][1])!, box.width, accuracy: 0.06)
    }

    static func polylines(_ svg: String) -> [[(x: Double, y: Double)]] {
        matches(#"points="([^"]*)""#, in: svg).map { match in
            match[0].split(separator: " ").map { pair in
                let numbers = pair.split(separator: ",").map { Double($0)! }
                return (numbers[0], numbers[1])
            }
        }
    }

    static func matches(_ pattern: String, in text: String) -> [[String]] {
        let expression = try! NSRegularExpression(pattern: pattern)
        let range = NSRange(text.startIndex..., in: text)
        return expression.matches(in: text, range: range).map { match in
            (1..<match.numberOfRanges).map { String(text[Range(match.range(at: $0), in: text)!]) }
        }
    }
}
