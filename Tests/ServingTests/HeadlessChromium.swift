import Foundation
import TestSupport
import XCTest

/// Debian's `chromium`, headless, as the browser tests drive it: `--dump-dom` prints the DOM once the
/// page is done. With `--virtual-time-budget` the page runs on a virtual clock that stops while a
/// request is in flight, so the dump comes after every `fetch` of the page has been answered (and the
/// script has rendered it), however long the server takes; a real-time bound catches a hung browser.
enum HeadlessChromium {
    /// The browser, or a failure that says how to get it (the tests fail without it, never skip).
    static func binary() throws -> URL {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
            .map { "\($0)/chromium" }.first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let path else {
            throw ServingTestError("chromium is missing: run make setup (scripts/setup installs Debian's chromium package)")
        }
        return URL(fileURLWithPath: path)
    }

    /// The DOM of `url` after the page has finished its requests (serialised HTML).
    static func dumpDOM(_ url: String, in directory: URL, name: String, timeout: TimeInterval = 120) async throws -> String {
        let binary = try binary()
        let profile = directory.appendingPathComponent("chromium-\(name)")
        let out = directory.appendingPathComponent("\(name).dom.html"), err = directory.appendingPathComponent("\(name).chromium.log")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        let process = Process()
        process.executableURL = binary
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                             "--disable-extensions", "--disable-background-networking", "--user-data-dir=\(profile.path)",
                             "--virtual-time-budget=60000", "--dump-dom", url]
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw ServingTestError("chromium did not finish \(url.prefix(200)) within \(Int(timeout)) s")
        }
        let dom = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
        guard process.terminationStatus == 0, dom.contains("</html>") else {
            let log = (try? String(contentsOf: err, encoding: .utf8)) ?? ""
            throw ServingTestError("chromium exited \(process.terminationStatus) on \(url.prefix(200)): \(log.suffix(2000))")
        }
        return dom
    }

    /// A query string value, percent-encoded but for the unreserved characters (so "+" stays a plus).
    static func encode(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)...Unicode.Scalar(127)))
        allowed.insert(charactersIn: "-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed)!
    }

    /// `/?key=value&...` for the playground.
    static func playgroundPath(_ parameters: KeyValuePairs<String, String>) -> String {
        "/?" + parameters.map { "\($0.key)=\(encode($0.value))" }.joined(separator: "&")
    }
}

/// The parts of a dumped DOM the tests read: an element's attributes and text, found by id.
struct DumpedDOM {
    let html: String

    /// The attributes of the element with `id` (values unescaped), or nil when there is none.
    func attributes(ofID id: String) -> [String: String]? {
        guard let start = html.range(of: " id=\"\(id)\"") else { return nil }
        let open = html[..<start.lowerBound].lastIndex(of: "<")!
        return Self.parseAttributes(html[html.index(after: open)...])
    }

    /// The attributes of the first `<tag ...>` (the `<body>`: `data-ready`).
    func attributes(ofFirst tag: String) -> [String: String]? {
        guard let start = html.range(of: "<\(tag)") else { return nil }
        return Self.parseAttributes(html[html.index(after: start.lowerBound)...])
    }

    /// The number of `needle`s inside the element with `id` (up to its end tag `</name>`).
    func count(_ needle: String, inID id: String, endTag: String) -> Int {
        guard let start = html.range(of: " id=\"\(id)\""), let end = html.range(of: endTag, range: start.upperBound..<html.endIndex) else { return 0 }
        return html[start.upperBound..<end.lowerBound].components(separatedBy: needle).count - 1
    }

    /// The text of the element with `id` (markup removed, entities unescaped), up to its end tag.
    func text(ofID id: String) -> String? {
        guard let start = html.range(of: " id=\"\(id)\""), let tagEnd = Self.endOfTag(html, from: start.lowerBound) else { return nil }
        let open = html[..<start.lowerBound].lastIndex(of: "<")!
        let name = html[html.index(after: open)...].prefix { $0.isLetter || $0.isNumber }
        guard let close = html.range(of: "</\(name)>", range: tagEnd..<html.endIndex) else { return nil }
        return Self.unescape(Self.stripTags(String(html[tagEnd..<close.lowerBound])))
    }

    /// The text of the first `<mark>` inside the element with `id` (the highlighted answer).
    func markedText(inID id: String) -> String? {
        guard let start = html.range(of: " id=\"\(id)\""), let mark = html.range(of: "<mark>", range: start.upperBound..<html.endIndex),
              let close = html.range(of: "</mark>", range: mark.upperBound..<html.endIndex) else { return nil }
        return Self.unescape(String(html[mark.upperBound..<close.lowerBound]))
    }

    /// The label of `<option value="value">` in the select with `id`.
    func optionLabel(inID id: String, value: String) -> String? {
        guard let select = html.range(of: " id=\"\(id)\""), let end = html.range(of: "</select>", range: select.upperBound..<html.endIndex),
              let option = html.range(of: "<option value=\"\(value)\">", range: select.upperBound..<end.lowerBound),
              let close = html.range(of: "</option>", range: option.upperBound..<end.lowerBound) else { return nil }
        return Self.unescape(String(html[option.upperBound..<close.lowerBound]))
    }

    /// Where the tag that holds `position` ends (after its `>`, quoted values skipped).
    static func endOfTag(_ html: String, from position: String.Index) -> String.Index? {
        var quoted = false
        var index = position
        while index < html.endIndex {
            let character = html[index]
            if character == "\"" { quoted.toggle() } else if character == ">" && !quoted { return html.index(after: index) }
            index = html.index(after: index)
        }
        return nil
    }

    /// `name="value"` pairs of a start tag (the text after its `<`), up to its `>`.
    static func parseAttributes(_ tag: Substring) -> [String: String] {
        var attributes: [String: String] = [:]
        var rest = tag.drop { $0.isLetter || $0.isNumber }
        while true {
            rest = rest.drop { $0 == " " || $0 == "\n" || $0 == "\t" }
            guard let first = rest.first, first != ">", first != "/" else { return attributes }
            let name = rest.prefix { $0 != "=" && $0 != " " && $0 != ">" }
            rest = rest.dropFirst(name.count)
            if rest.hasPrefix("=\"") {
                let value = rest.dropFirst(2).prefix { $0 != "\"" }
                attributes[String(name)] = unescape(String(value))
                rest = rest.dropFirst(2 + value.count + 1)
            } else {
                attributes[String(name)] = ""
            }
        }
    }

    static func stripTags(_ text: String) -> String {
        text.replacingOccurrences(of: "<[^>]*>", with: "", options: .regularExpression)
    }

    static func unescape(_ text: String) -> String {
        text.replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
            .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&nbsp;", with: "\u{00A0}").replacingOccurrences(of: "&amp;", with: "&")
    }
}
