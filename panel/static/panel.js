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
(function () {
  var box = document.getElementById("bulk-run");
  if (!box || box.getAttribute("data-status") !== "running") { return; }
  var url = box.getAttribute("data-batch-url");
  var token = box.getAttribute("data-csrf-token");
  var bar = document.getElementById("bulk-progress");
  var done = document.getElementById("run-done");
  var message = document.getElementById("run-message");
  var button = document.getElementById("next-batch");
  var idleRounds = 0;
  if (button) { button.disabled = true; }

  function say(text) { if (message) { message.textContent = text; } }

  function next() {
    var body = new URLSearchParams();
    body.append("csrf_token", token);
    fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      if (!response.ok) { throw new Error("the server answered " + response.status); }
      return response.json();
    }).then(function (state) {
      if (bar) { bar.max = state.total; bar.value = state.done; }
      if (done) { done.textContent = state.done; }
      if (state.status === "done") {
        say("Done.");
        window.location.reload();
        return;
      }
      // Nothing claimed: another window or worker holds the last orders; wait for it.
      idleRounds = state.claimed ? 0 : idleRounds + 1;
      say("Running…");
      window.setTimeout(next, state.claimed ? 0 : Math.min(5000, 500 * idleRounds));
    }).catch(function (error) {
      say("Stopped: " + error.message + ". Press \"Run next batch\" to go on.");
      if (button) { button.disabled = false; }
    });
  }
  next();
})();
