// Flask-Admin's menus and pagers say href="javascript:void(0)"; our Content-Security-Policy
// forbids javascript: URLs (and reports every click on one). Bootstrap's handlers stop the
// navigation anyway, so a plain "#" does the same job.
document.querySelectorAll('a[href^="javascript:"]').forEach(function (link) {
  link.setAttribute("href", "#");
});

// Check-all boxes: a checkbox with data-check-all="NAME" ticks every box with data-group="NAME".
// Listening in the capture phase ticks them before any form's own change listener counts them.
document.addEventListener("change", function (event) {
  var target = event.target;
  var group = target.getAttribute && target.getAttribute("data-check-all");
  if (!group) { return; }
  document.querySelectorAll('input[type=checkbox][data-group="' + group + '"]').forEach(function (box) {
    if (!box.disabled) { box.checked = target.checked; }
  });
}, true);

// Orders list, bulk bar: say how many orders are ticked.
(function () {
  var form = document.getElementById("bulk-form");
  var label = document.getElementById("bulk-ticked");
  if (!form || !label) { return; }
  var initial = label.textContent;
  function update() {
    var ticked = form.querySelectorAll('input[name="order"]:checked').length;
    // The page's words (data-text-one, data-text-many with {count}), in the user's language.
    label.textContent = !ticked ? initial : ticked === 1
      ? label.getAttribute("data-text-one") || "1 order ticked:"
      : (label.getAttribute("data-text-many") || "{count} orders ticked:").replace("{count}", ticked);
  }
  form.addEventListener("change", update);
  update();
})();

// Bulk run page: post "next batch" until the run is done, then reload to show the report.
// Without JavaScript the "Run next batch" button does the same, one batch per press.
// A batch the database interrupted (503, status "interrupted") saved what it says; the
// rest is still pending, so try again after a pause. A refused batch (403) stops here.
(function () {
  var box = document.getElementById("bulk-run");
  if (!box || box.getAttribute("data-status") !== "running") { return; }
  var url = box.getAttribute("data-batch-url");
  var token = box.getAttribute("data-csrf-token");
  var bar = document.getElementById("bulk-progress");
  var done = document.getElementById("run-done");
  var message = document.getElementById("run-message");
  var button = document.getElementById("next-batch");
  var RETRY_SECONDS = 5;
  var idleRounds = 0;
  if (button) { button.disabled = true; }

  // The page's words (data-text-NAME, in the user's language), {names} filled in.
  function text(name, english, values) {
    var words = box.getAttribute("data-text-" + name) || english;
    return words.replace(/\{(\w+)\}/g, function (whole, key) {
      return values && key in values ? values[key] : whole;
    });
  }

  function say(words) { if (message) { message.textContent = words; } }

  function stop(error) {
    say(text("stopped", "Stopped: {error}. Press \"Run next batch\" to go on.", { error: error }));
    if (button) { button.disabled = false; }
  }

  function readState(response) {
    var json = (response.headers.get("Content-Type") || "").indexOf("application/json") === 0;
    var answered = text("answered", "the server answered {status}", { status: response.status });
    if (!json) { throw new Error(answered); }
    return response.json().then(function (state) {
      if (!response.ok && state.status !== "interrupted" && state.status !== "refused") {
        throw new Error(state.message || answered);
      }
      return state;
    });
  }

  function next() {
    var body = new URLSearchParams();
    body.append("csrf_token", token);
    fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(readState).then(function (state) {
      if (typeof state.done === "number") {
        if (bar) { bar.max = state.total; bar.value = state.done; }
        if (done) { done.textContent = state.done; }
      }
      if (state.status === "refused") {
        say(state.message);
        return;
      }
      if (state.status === "interrupted") {
        say(state.message + " " + text("retrying", "Trying again in {seconds} seconds…",
                                       { seconds: RETRY_SECONDS }));
        window.setTimeout(next, RETRY_SECONDS * 1000);
        return;
      }
      if (state.status === "done") {
        say(text("done", "Done."));
        window.location.reload();
        return;
      }
      // Nothing finished: another window holds the last orders; wait for it.
      idleRounds = state.finished ? 0 : idleRounds + 1;
      say(text("running", "Running…"));
      window.setTimeout(next, state.finished ? 0 : Math.min(5000, 500 * idleRounds));
    }).catch(function (error) {
      stop(error.message);
    });
  }
  next();
})();

// Return slip: the Print button opens the browser's print dialog (print media hides it).
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
