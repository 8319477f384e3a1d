// Keyboard shortcuts, listed in the dialog #shortcuts (panel_base.html), which "?" opens:
//   /        focus the page's search field
//   j / k    next / previous row of the page's list (tbody[data-keyboard-rows], the rows
//            with a [data-row-open] link); that link takes the focus, so Enter opens it
//   x        tick or untick the current row's checkbox
//   e        next event button on the order page (Enter presses it)
//   g then d / o / r   go to the dashboard, the orders, the reclamations
// None fires while a field has the focus (typing "j" in the search stays typing), nor with
// Ctrl, Alt or Meta held (the browser's own shortcuts stay theirs).
(function () {
  var dialog = document.getElementById("shortcuts");
  if (!dialog) { return; }  // not signed in
  var GO_KEYS = { d: "data-go-dashboard", o: "data-go-orders", r: "data-go-reclamations" };
  var GO_SECONDS = 1.5;
  var goPressedAt = 0;
  var current = -1;

  function typing(target) {
    if (!target || target === document.body) { return false; }
    var tag = target.tagName;
    if (tag === "INPUT") { return !/^(checkbox|radio|button|submit|reset)$/.test(target.type); }
    return tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
  }

  function rows() {
    var body = document.querySelector("tbody[data-keyboard-rows]");
    if (!body) { return []; }
    return Array.prototype.slice.call(body.children).filter(function (row) {
      return row.querySelector("[data-row-open]");  // not the "nothing matches" row
    });
  }

  function moveTo(index) {
    var list = rows();
    if (!list.length) { return false; }
    index = Math.max(0, Math.min(list.length - 1, index));
    list.forEach(function (row, n) {
      row.classList.toggle("row-current", n === index);
      if (n === index) { row.setAttribute("aria-current", "true"); }
      else { row.removeAttribute("aria-current"); }
    });
    current = index;
    var link = list[index].querySelector("[data-row-open]") || list[index].querySelector("a");
    if (link) { link.focus(); }
    list[index].scrollIntoView({ block: "nearest" });
    return true;
  }

  function tickCurrent() {
    var list = rows();
    if (current < 0 || current >= list.length) { return false; }
    var box = list[current].querySelector('input[type="checkbox"]');
    if (!box || box.disabled) { return false; }
    box.checked = !box.checked;
    box.dispatchEvent(new Event("change", { bubbles: true }));
    return true;
  }

  function nextEventButton() {
    var buttons = Array.prototype.slice.call(document.querySelectorAll(
      'button[name="event"]:not([disabled]), button[name="item_event"]:not([disabled])'));
    if (!buttons.length) { return false; }
    var at = buttons.indexOf(document.activeElement);
    buttons[(at + 1) % buttons.length].focus();
    return true;
  }

  function focusSearch() {
    var field = document.querySelector('input[type="search"]');
    if (!field) { return false; }
    field.focus();
    field.select();
    return true;
  }

  function go(key) {
    var url = dialog.getAttribute(GO_KEYS[key] || "");
    if (!url) { return false; }
    window.location.assign(url);
    return true;
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.altKey || event.metaKey || typing(event.target)) { return; }
    if (dialog.open) { return; }  // the dialog closes itself on Escape
    var key = event.key;
    var handled = false;
    if (goPressedAt && Date.now() - goPressedAt < GO_SECONDS * 1000) {
      goPressedAt = 0;
      handled = go(key);
    } else if (key === "g") {
      goPressedAt = Date.now();
      handled = true;
    } else if (key === "/") {
      handled = focusSearch();
    } else if (key === "j") {
      handled = moveTo(current + 1);
    } else if (key === "k") {
      handled = moveTo(current < 0 ? 0 : current - 1);
    } else if (key === "x") {
      handled = tickCurrent();
    } else if (key === "e") {
      handled = nextEventButton();
    } else if (key === "?") {
      dialog.showModal();
      handled = true;
    }
    if (handled) { event.preventDefault(); }
  });

  dialog.querySelectorAll("[data-close]").forEach(function (button) {
    button.addEventListener("click", function () { dialog.close(); });
  });
})();
