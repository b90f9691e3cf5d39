import Hummingbird
import NIOCore

/// The question-answering playground served at `GET /`: one self-contained HTML page (inline CSS
/// and JavaScript, no other asset, no build step) that asks this server's `/v1/answer` and shows the
/// answer highlighted in the passage, its probability, the n-best list and the latency; a second
/// model side by side; examples from the demo data; errors as readable messages.
///
/// DOM contract (the browser test reads it): each result pane `<section id="result-0">` /
/// `"result-1"` carries `data-state` (`idle`, `loading`, `done`, `error`), `data-model`, and after an
/// answer `data-answer`, `data-start`, `data-end`, `data-score`; its error is `#error-0` / `#error-1`
/// (role="alert"); `<body data-ready="1">` once the models are listed and the questions that
/// `?ask=1` asks at load are answered or refused. URL parameters: `model`, `compare`, `question`,
/// `context`, `ask=1`.
public struct PlaygroundPage: Sendable {
    /// The page, rendered once.
    public let html: String

    /// `maxBodyBytes`: the server's `--max-body-bytes`, which a 413 message quotes.
    public init(maxBodyBytes: Int) {
        html = Self.render(maxBodyBytes: maxBodyBytes)
    }

    /// Scripts, styles and requests from this origin and inline only; no frames, objects or other origins.
    public static let contentSecurityPolicy = "default-src 'self'; script-src 'self' 'unsafe-inline'; "
        + "style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; "
        + "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

    /// The page as a response: HTML, the policy above, no MIME sniffing.
    public var response: Response {
        var buffer = ByteBuffer()
        buffer.writeString(html)
        return Response(status: .ok,
                        headers: [.contentType: "text/html; charset=utf-8", .contentSecurityPolicy: Self.contentSecurityPolicy,
                                  .xContentTypeOptions: "nosniff", .cacheControl: "no-cache"],
                        body: ResponseBody(byteBuffer: buffer))
    }

    static func render(maxBodyBytes: Int) -> String {
        #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Question answering playground · mrc-distill serve</title>
        <link rel="icon" href="data:,">
        <style>
        \#(PlaygroundStyle.css)
        </style>
        </head>
        <body data-max-body-bytes="\#(maxBodyBytes)">
        <header>
          <h1>Question answering playground</h1>
          <p class="lead">Ask a question about a passage: the model answers with a span of it. Served by
            <code>mrc-distill serve</code> (API: <a href="/openapi.json">/openapi.json</a>).</p>
        </header>
        <main>
          <form id="ask-form" novalidate>
            <div class="pickers">
              <div class="field">
                <label for="model">Model</label>
                <select id="model" name="model"></select>
              </div>
              <div class="field">
                <label for="compare">Compare with</label>
                <select id="compare" name="compare"><option value="">No second model</option></select>
              </div>
              <fieldset class="examples">
                <legend>Examples from the SQuAD v1.1 demo data</legend>
                <div id="example-list" class="example-list"></div>
              </fieldset>
            </div>
            <p id="models-error" class="error" role="alert"></p>
            <div class="field">
              <label for="context">Passage</label>
              <textarea id="context" name="context" rows="5" spellcheck="false" aria-describedby="context-hint"></textarea>
              <p id="context-hint" class="hint">Paste any text. Ctrl+Enter in the passage asks too.</p>
            </div>
            <div class="field">
              <label for="question">Question</label>
              <div class="ask-row">
                <input id="question" name="question" type="text" autocomplete="off" spellcheck="false">
                <button id="ask" type="submit">Ask</button>
              </div>
            </div>
          </form>
          <div id="results" class="results">
        \#([0, 1].map(Self.pane).joined(separator: "\n"))
          </div>
        </main>
        <footer>
          <p>Offsets are Unicode code points; the probability is the answer's among the model's n-best
            candidates; the latency is measured by this page (request to reply).</p>
        </footer>
        <script type="application/json" id="examples">\#(PlaygroundExamples.json)</script>
        <script>
        \#(PlaygroundScript.js)
        </script>
        </body>
        </html>

        """#
    }

    /// A result pane: `#result-N` with its error, summary, highlighted passage and n-best list.
    static func pane(_ index: Int) -> String {
        #"""
            <section id="result-\#(index)" class="result" data-state="idle" data-model=""\#(index == 1 ? " hidden" : "")
                     aria-labelledby="result-\#(index)-title">
              <h2 id="result-\#(index)-title">\#(index == 0 ? "Answer" : "Second model")</h2>
              <p id="error-\#(index)" class="error" role="alert"></p>
              <div class="summary" id="summary-\#(index)" aria-live="polite"><p class="placeholder">Ask a question to see the answer here.</p></div>
              <div class="passage" id="passage-\#(index)" tabindex="0" role="region"
                   aria-label="Passage with the answer highlighted" hidden></div>
              <h3 class="nbest-title" id="nbest-title-\#(index)" hidden>Candidate answers (choose one to highlight it)</h3>
              <ol class="nbest" id="nbest-\#(index)" aria-labelledby="nbest-title-\#(index)"></ol>
            </section>
        """#
    }
}
