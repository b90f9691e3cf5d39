/// The playground's stylesheet (inlined in the page). System fonts only; colours chosen for WCAG AA
/// contrast (body text 15:1, muted text 7:1, links and buttons ≥ 6:1, the highlight 13:1); a visible
/// focus outline on every control.
enum PlaygroundStyle {
    static let css = #"""
    :root {
      color-scheme: light;
      --text: #1b1f24; --muted: #4a5260; --line: #c4cad3; --panel: #f5f7fa; --accent: #1a56db;
      --accent-dark: #123f9f; --mark: #ffe066; --error-text: #8f1d1d; --error-bg: #fdecec; --focus: #b45309;
    }
    * { box-sizing: border-box; }
    body {
      margin: 0 auto; max-width: 1240px; padding: 1.25rem 1.5rem 2rem;
      font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
      color: var(--text); background: #fff;
    }
    h1 { font-size: 1.5rem; margin: 0 0 .15rem; }
    h2 { font-size: 1.2rem; margin: 0 0 .5rem; }
    h3 { font-size: 1rem; margin: 1rem 0 .4rem; }
    .lead, .hint, footer, .placeholder, .meta { color: var(--muted); }
    .lead { margin: 0 0 .9rem; }
    a { color: var(--accent); }
    a:hover { color: var(--accent-dark); }
    code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: .92em; }
    label, legend { display: block; font-weight: 600; margin-bottom: .25rem; }
    .field { margin-bottom: .9rem; }
    .pickers { display: flex; flex-wrap: wrap; align-items: flex-end; gap: .5rem 1.25rem; margin-bottom: .9rem; }
    .pickers .field { width: 14rem; margin-bottom: 0; }
    select, textarea, input[type="text"] {
      font: inherit; color: var(--text); background: #fff; border: 1px solid #6b7380; border-radius: 6px;
      padding: .45rem .6rem; width: 100%;
    }
    textarea { resize: vertical; min-height: 6.5rem; }
    .hint { font-size: .88rem; margin: .2rem 0 0; }
    .ask-row { display: flex; gap: .6rem; }
    .ask-row input { flex: 1; }
    button {
      font: inherit; cursor: pointer; border-radius: 6px; border: 1px solid var(--accent);
      background: #fff; color: var(--accent-dark); padding: .45rem .9rem;
    }
    button:hover { background: #eef3fd; }
    button[type="submit"] { background: var(--accent); color: #fff; font-weight: 600; padding: .45rem 1.6rem; }
    button[type="submit"]:hover { background: var(--accent-dark); }
    :focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
    select:focus-visible, textarea:focus-visible, input:focus-visible { outline-offset: 0; }
    fieldset.examples { border: 0; padding: 0; margin: 0; min-width: 0; flex: 1 1 24rem; }
    .example-list { display: flex; flex-wrap: wrap; gap: .5rem; }
    .example-list button { font-size: .92rem; padding: .3rem .7rem; }
    .error:empty { display: none; }
    .error {
      color: var(--error-text); background: var(--error-bg); border: 1px solid #e3a3a3; border-left: 5px solid var(--error-text);
      border-radius: 6px; padding: .6rem .8rem; margin: .5rem 0;
    }
    .results { display: grid; grid-template-columns: 1fr; gap: 1.25rem; margin-top: 1.25rem; }
    .results.compare { grid-template-columns: 1fr 1fr; }
    @media (max-width: 820px) { .results.compare { grid-template-columns: 1fr; } }
    .result { border: 1px solid var(--line); border-radius: 10px; padding: 1rem 1.1rem; background: var(--panel); min-width: 0; }
    .result[hidden] { display: none; }
    .result[data-state="loading"] .summary { opacity: .7; }
    .summary p { margin: 0 0 .3rem; }
    .answer-text { font-size: 1.35rem; font-weight: 700; }
    .badge {
      display: inline-block; font-size: .8rem; font-weight: 600; color: var(--accent-dark); background: #dfe8fb;
      border-radius: 999px; padding: 0 .55rem; margin-left: .35rem; vertical-align: middle;
    }
    .passage {
      white-space: pre-wrap; overflow-wrap: anywhere; background: #fff; border: 1px solid var(--line); border-radius: 6px;
      padding: .7rem .8rem; margin-top: .6rem; max-height: 11rem; overflow: auto; line-height: 1.6;
    }
    .passage[hidden] { display: none; }
    mark { background: var(--mark); color: var(--text); border-radius: 3px; padding: .05rem .1rem; box-shadow: 0 0 0 1px #c9a600; }
    .nbest { list-style: none; padding: 0; margin: 0; display: grid; gap: .35rem; }
    .nbest button {
      width: 100%; display: flex; justify-content: space-between; gap: 1rem; text-align: left; background: #fff;
      color: var(--text); border-color: var(--line);
    }
    .nbest button[aria-pressed="true"] { border-color: var(--accent); box-shadow: inset 4px 0 0 var(--accent); font-weight: 600; }
    .nbest .score { color: var(--muted); font-variant-numeric: tabular-nums; white-space: nowrap; }
    footer { font-size: .88rem; margin-top: 1.5rem; border-top: 1px solid var(--line); padding-top: .6rem; }
    """#
}
