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
    label.textContent = ticked ? ticked + (ticked === 1 ? " order" : " orders") + " ticked:" : initial;
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

  function say(text) { if (message) { message.textContent = text; } }

  function stop(text) {
    say(text + " Press \"Run next batch\" to go on.");
    if (button) { button.disabled = false; }
  }

  function readState(response) {
    var json = (response.headers.get("Content-Type") || "").indexOf("application/json") === 0;
    if (!json) { throw new Error("the server answered " + response.status); }
    return response.json().then(function (state) {
      if (!response.ok && state.status !== "interrupted" && state.status !== "refused") {
        throw new Error(state.message || "the server answered " + response.status);
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
        say(state.message + " Trying again in " + RETRY_SECONDS + " seconds…");
        window.setTimeout(next, RETRY_SECONDS * 1000);
        return;
      }
      if (state.status === "done") {
        say("Done.");
        window.location.reload();
        return;
      }
      // Nothing finished: another window holds the last orders; wait for it.
      idleRounds = state.finished ? 0 : idleRounds + 1;
      say("Running…");
      window.setTimeout(next, state.finished ? 0 : Math.min(5000, 500 * idleRounds));
    }).catch(function (error) {
      stop("Stopped: " + error.message + ".");
    });
  }
  next();
})();

// Return slip: the Print button opens the browser's print dialog (print media hides it).
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
