/// The playground's script, part two (inlined inside part one's closure): the result panes — state
/// attributes, the answer highlighted in a read-only copy of the passage, the n-best list, errors.
///
/// Offsets are Unicode code points (Python `str` indices), so the passage is sliced as
/// `Array.from(text)` (one element per code point), never with UTF-16 string indices.
enum PlaygroundResultsScript {
    static let js = #"""
      const panes = [0, 1].map((index) => ({
        section: byId(`result-${index}`), title: byId(`result-${index}-title`), error: byId(`error-${index}`),
        summary: byId(`summary-${index}`), passage: byId(`passage-${index}`), nbestTitle: byId(`nbest-title-${index}`),
        nbest: byId(`nbest-${index}`),
      }));

      function element(tag, className, text) {
        const node = document.createElement(tag);
        if (className) node.className = className;
        if (text !== undefined) node.textContent = text;
        return node;
      }

      function percent(score) {
        return `${(100 * score).toFixed(1)} %`;
      }

      /** Shows or hides the second pane (side by side when shown). */
      function setCompare(on) {
        byId("results").classList.toggle("compare", on);
        panes[1].section.hidden = !on;
        if (!on) resetPane(panes[1]);
      }

      function resetPane(pane) {
        pane.section.dataset.state = "idle";
        pane.section.dataset.model = "";
        for (const key of ["answer", "start", "end", "score"]) delete pane.section.dataset[key];
        pane.section.removeAttribute("aria-busy");
        pane.error.textContent = "";
        pane.passage.hidden = true;
        pane.passage.replaceChildren();
        pane.nbestTitle.hidden = true;
        pane.nbest.replaceChildren();
      }

      /** The pane's title: the model's name, marked when it is an ensemble. */
      function setTitle(pane, modelName) {
        const model = models.find((candidate) => candidate.name === modelName);
        pane.title.replaceChildren(document.createTextNode(modelName ? `Model ${modelName}` : "Answer"));
        const members = model && Array.isArray(model.members) ? model.members.length : 1;
        if (members > 1) pane.title.append(element("span", "badge", `ensemble of ${members}`));
      }

      /** A request is on its way: `data-state="loading"`. */
      function startPane(pane, modelName) {
        resetPane(pane);
        pane.section.dataset.state = "loading";
        pane.section.dataset.model = modelName || "";
        pane.section.setAttribute("aria-busy", "true");
        setTitle(pane, modelName);
        pane.summary.replaceChildren(element("p", "placeholder", `Asking ${modelName || "the default model"}…`));
      }

      /** A refusal or a network failure, as a sentence in the pane's alert: `data-state="error"`. */
      function showError(pane, message) {
        pane.section.dataset.state = "error";
        pane.section.removeAttribute("aria-busy");
        pane.summary.replaceChildren(element("p", "placeholder", "No answer."));
        pane.error.textContent = message;
      }

      /** Highlights answer `candidate` ([start, end) in code points) in the pane's copy of `context`. */
      function highlight(pane, context, candidate) {
        const characters = Array.from(context);
        const start = Math.max(0, Math.min(candidate.start, characters.length));
        const end = Math.max(start, Math.min(candidate.end, characters.length));
        const mark = element("mark", "", characters.slice(start, end).join(""));
        pane.passage.replaceChildren(document.createTextNode(characters.slice(0, start).join("")), mark,
                                     document.createTextNode(characters.slice(end).join("")));
        pane.passage.hidden = false;
        // Scroll the passage box (not the page) so that the mark shows, a third of the way down.
        const top = mark.offsetTop - pane.passage.offsetTop;
        pane.passage.scrollTop = Math.max(0, top - pane.passage.clientHeight / 3);
        for (const button of pane.nbest.querySelectorAll("button")) {
          button.setAttribute("aria-pressed", String(button.dataset.start === String(candidate.start)
                                                     && button.dataset.end === String(candidate.end)));
        }
      }

      /** The answer (`reply`: answer, start, end, score, alternatives) with its latency: `data-state="done"`. */
      function showAnswer(pane, context, reply, latency) {
        const candidates = [reply, ...(Array.isArray(reply.alternatives) ? reply.alternatives : [])];
        const section = pane.section;
        section.dataset.answer = reply.answer;
        section.dataset.start = String(reply.start);
        section.dataset.end = String(reply.end);
        section.dataset.score = String(reply.score);
        const line = element("p");
        const abstains = reply.answer === "" && typeof reply.null_score === "number";
        line.append(element("span", "answer-text", abstains ? "No answer: the model abstains"
                                                            : reply.answer === "" ? "(empty answer)" : reply.answer));
        const meta = element("p", "meta", abstains
          ? `The null score beats the best span by ${reply.null_score.toFixed(2)} · answered in ${Math.round(latency)} ms`
          : `Probability ${percent(reply.score)} · characters ${reply.start}–${reply.end} · answered in ${Math.round(latency)} ms`);
        pane.summary.replaceChildren(line, meta);
        pane.nbest.replaceChildren();
        candidates.forEach((candidate, rank) => {
          const button = element("button");
          button.type = "button";
          button.dataset.start = String(candidate.start);
          button.dataset.end = String(candidate.end);
          button.setAttribute("aria-pressed", "false");
          button.append(element("span", "text", `${rank + 1}. ${candidate.answer === "" ? "(empty)" : candidate.answer}`),
                        element("span", "score", percent(candidate.score)));
          button.addEventListener("click", () => highlight(pane, context, candidate));
          const item = element("li");
          item.append(button);
          pane.nbest.append(item);
        });
        pane.nbestTitle.hidden = candidates.length < 2;
        highlight(pane, context, reply);
        section.removeAttribute("aria-busy");
        section.dataset.state = "done";
      }
    """#
}
