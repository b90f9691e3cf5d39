/// The playground's script (inlined in the page), part one: the form, the model pickers, the
/// examples, the URL parameters and the requests. `PlaygroundResultsScript` renders the panes.
enum PlaygroundScript {
    static let js = #"""
    "use strict";
    (() => {
      const byId = (id) => document.getElementById(id);
      const form = byId("ask-form"), modelPicker = byId("model"), comparePicker = byId("compare");
      const contextInput = byId("context"), questionInput = byId("question"), modelsError = byId("models-error");
      const maxBodyBytes = Number(document.body.dataset.maxBodyBytes) || 0;
      const wantedTopK = 5;
      let models = [], defaultModel = "", topK = 1, generation = 0;

    \#(PlaygroundResultsScript.js)

      /** A served model's label: its name, and "ensemble of N" for an ensemble. */
      function modelLabel(model) {
        const members = Array.isArray(model.members) ? model.members.length : 1;
        return members > 1 ? `${model.name} (ensemble of ${members})` : model.name;
      }

      function addOption(picker, value, label) {
        const option = document.createElement("option");
        option.value = value;
        option.textContent = label;
        picker.append(option);
        return option;
      }

      /** Selects `name` in `picker`; a name the server does not list is kept, marked, so that asking shows the server's refusal. */
      function choose(picker, name) {
        if (!name) return;
        if (![...picker.options].some((option) => option.value === name)) addOption(picker, name, `${name} (not listed by this server)`);
        picker.value = name;
      }

      /** Fills both pickers from GET /v1/models; the largest top_k every model allows (the server's limit is the smallest n_best). */
      async function loadModels() {
        try {
          const response = await fetch("/v1/models", { headers: { Accept: "application/json" } });
          const body = await response.json();
          if (!response.ok || !Array.isArray(body.models)) throw new Error(`HTTP ${response.status}`);
          models = body.models;
          defaultModel = typeof body.default === "string" ? body.default : "";
        } catch (error) {
          modelsError.textContent = `Could not list the models (${error.message}): answers come from the server's default model.`;
          return;
        }
        for (const model of models) {
          addOption(modelPicker, model.name, modelLabel(model));
          addOption(comparePicker, model.name, modelLabel(model));
        }
        modelPicker.value = defaultModel;
        const limits = models.map((model) => Number(model.n_best)).filter((n) => Number.isInteger(n) && n > 0);
        topK = Math.max(1, Math.min(wantedTopK, ...limits));
      }

      function loadExamples() {
        let examples = [];
        try { examples = JSON.parse(byId("examples").textContent); } catch (error) { examples = []; }
        const list = byId("example-list");
        for (const example of examples) {
          const button = document.createElement("button");
          button.type = "button";
          button.textContent = example.title;
          button.title = `${example.question} (gold answer: ${example.answer})`;
          button.addEventListener("click", () => {
            contextInput.value = example.context;
            questionInput.value = example.question;
            questionInput.focus();
          });
          list.append(button);
        }
      }

      /** The readable message of a refused request (the server's JSON error message, never the raw JSON). */
      function describe(status, body, retryAfter) {
        const error = body && typeof body === "object" && body.error && typeof body.error.message === "string" ? body.error : null;
        const message = error ? error.message : "";
        const sentence = (text) => (/[.!?]$/.test(text) ? text : `${text}.`);
        switch (status) {
          case 400:
            return sentence(`The server refused the request${error && error.field ? ` (${error.field})` : ""}: ${message || "bad request"}`);
          case 413: {
            const limit = maxBodyBytes || Number((/(\d+) bytes/.exec(message) || [])[1]) || 0;
            const size = limit ? `limit ${limit.toLocaleString("en-US")} bytes per request, --max-body-bytes` : "--max-body-bytes";
            return `The passage is too long for this server (${size}). Shorten the passage, or start the server with a larger limit.`;
          }
          case 422:
            return /windows/.test(message)
              ? sentence(`The passage is too long for one request to this model: ${message}`)
              : sentence(`The server cannot answer this: ${message || "unprocessable request"}`);
          case 503: {
            const reason = message ? message.charAt(0).toUpperCase() + message.slice(1) : "The server is busy or not ready";
            return sentence(reason) + (retryAfter ? ` Try again in ${retryAfter} s.` : " Try again shortly.");
          }
          case 504:
            return sentence(`The server took too long to answer: ${message || "timeout"}`);
          default:
            return sentence(`The server answered HTTP ${status}${message ? `: ${message}` : ""}`);
        }
      }

      /** Asks one model (`model` empty: the server's default) and renders the reply in `pane`. */
      async function askOne(pane, model, question, context, asked) {
        startPane(pane, model || defaultModel);
        const request = { question, context, top_k: topK };
        if (model) request.model = model;
        const started = performance.now();
        try {
          const response = await fetch("/v1/answer", {
            method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" },
            body: JSON.stringify(request),
          });
          const text = await response.text();
          const latency = performance.now() - started;
          if (asked !== generation) return;
          let body = null;
          try { body = JSON.parse(text); } catch (error) { body = null; }
          if (response.ok && body && typeof body.answer === "string") {
            showAnswer(pane, context, body, latency);
          } else {
            showError(pane, describe(response.status, body, response.headers.get("Retry-After")));
          }
        } catch (error) {
          if (asked !== generation) return;
          showError(pane, "Could not reach the server (network error): check that mrc-distill serve is still running, then ask again.");
        }
      }

      /** Asks the chosen model, and the second one when "compare with" is set; resolves when every reply is shown. */
      async function ask() {
        const question = questionInput.value, context = contextInput.value;
        const asked = ++generation;
        const chosen = [modelPicker.value, comparePicker.value];
        setCompare(Boolean(chosen[1]));
        if (!question.trim() || !context.trim()) {
          startPane(panes[0], chosen[0] || defaultModel);
          showError(panes[0], `Enter ${context.trim() ? "a question" : "a passage"} first.`);
          return;
        }
        syncURL(true);
        const jobs = [askOne(panes[0], chosen[0], question, context, asked)];
        if (chosen[1]) jobs.push(askOne(panes[1], chosen[1], question, context, asked));
        await Promise.all(jobs);
      }

      /** Writes the form into the URL (history.replaceState), so that a link reproduces the question. */
      function syncURL(asked) {
        const params = new URLSearchParams();
        if (modelPicker.value) params.set("model", modelPicker.value);
        if (comparePicker.value) params.set("compare", comparePicker.value);
        if (questionInput.value) params.set("question", questionInput.value);
        if (contextInput.value) params.set("context", contextInput.value);
        if (asked) params.set("ask", "1");
        try { history.replaceState(null, "", `${location.pathname}?${params}`); } catch (error) { /* a URL too long to keep */ }
      }

      form.addEventListener("submit", (event) => { event.preventDefault(); ask(); });
      contextInput.addEventListener("keydown", (event) => {
        if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); ask(); }
      });
      comparePicker.addEventListener("change", () => setCompare(Boolean(comparePicker.value)));

      async function start() {
        const params = new URLSearchParams(location.search);
        loadExamples();
        contextInput.value = params.get("context") || "";
        questionInput.value = params.get("question") || "";
        await loadModels();
        choose(modelPicker, params.get("model"));
        choose(comparePicker, params.get("compare"));
        setCompare(Boolean(comparePicker.value));
        if (params.get("ask") === "1") await ask();
        document.body.dataset.ready = "1";
      }
      start();
    })();
    """#
}
