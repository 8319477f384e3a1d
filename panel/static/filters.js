// Orders list, the filters (templates/orders/list.html, #order-filters): each filter is a
// <details data-filter-menu> whose panel holds checkboxes (radio buttons for the process) of
// the GET form. Without this script they work as they are: a click on the button opens the
// panel, Apply sends the form. The script makes them behave like dropdowns:
//   - one panel open at a time; a click or the focus elsewhere closes it;
//   - Escape closes it and puts the focus back on its button;
//   - Arrow Down / Up move between the panel's search box and its boxes (from the button:
//     into the panel), Home / End to the first and last; Enter ticks a box like Space does
//     (Enter in the search box goes to the first box left, instead of sending the form);
//   - a long list (an <input data-filter-find>, hidden until now) is narrowed by typing.
// The keyboard shortcuts (shortcuts.js) stay quiet while the search box has the focus, as in
// every text field. No text of its own: what it shows is in the page, in the user's language.
(function () {
  var form = document.getElementById("order-filters");
  if (!form) { return; }
  var menus = Array.prototype.slice.call(form.querySelectorAll("details[data-filter-menu]"));

  function summaryOf(menu) { return menu.querySelector("summary"); }

  // What the arrow keys move between: the search box, then the boxes that are not hidden.
  function stops(menu) {
    return Array.prototype.slice.call(menu.querySelectorAll(
      "[data-filter-find], .filter-options input, .filter-panel input[type=date]"
    )).filter(function (element) {
      return !element.hidden && !(element.closest("li") && element.closest("li").hidden);
    });
  }

  function isBox(element) {
    return element.tagName === "INPUT" && (element.type === "checkbox" || element.type === "radio");
  }

  function close(menu, focusButton) {
    menu.open = false;
    if (focusButton) { summaryOf(menu).focus(); }
  }

  function narrow(menu, find) {
    var term = find.value.trim().toLowerCase();
    var shown = 0;
    menu.querySelectorAll(".filter-options li").forEach(function (item) {
      var match = !term || item.textContent.toLowerCase().indexOf(term) !== -1;
      item.hidden = !match;
      if (match) { shown += 1; }
    });
    var none = menu.querySelector("[data-filter-none]");
    if (none) { none.hidden = shown > 0; }
  }

  function move(menu, from, key) {
    var list = stops(menu);
    if (!list.length) { return false; }
    var at = list.indexOf(from);
    var next;
    if (key === "Home") { next = 0; }
    else if (key === "End") { next = list.length - 1; }
    else if (key === "ArrowDown") { next = at < 0 ? 0 : Math.min(list.length - 1, at + 1); }
    else { next = at <= 0 ? 0 : at - 1; }
    list[next].focus();
    return true;
  }

  menus.forEach(function (menu) {
    var find = menu.querySelector("[data-filter-find]");
    if (find) {
      find.hidden = false;
      find.addEventListener("input", function () { narrow(menu, find); });
    }

    menu.addEventListener("toggle", function () {
      if (!menu.open) { return; }
      menus.forEach(function (other) { if (other !== menu && other.open) { other.open = false; } });
    });

    menu.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.altKey || event.metaKey) { return; }
      var target = event.target;
      var key = event.key;
      var handled = false;
      if (key === "Escape" && menu.open) {
        close(menu, true);
        handled = true;
      } else if (target === summaryOf(menu)) {
        if (key === "ArrowDown" || key === "ArrowUp") {
          menu.open = true;
          var list = stops(menu);
          var ticked = list.filter(function (box) { return box.checked; })[0];
          var first = list[0];
          if (first && first.type === "radio" && ticked) { first = ticked; }
          if (first) { first.focus(); }
          handled = true;
        }
      } else if (target.type === "date") {
        handled = false;  // the arrow keys change the day
      } else if (key === "ArrowDown" || key === "ArrowUp" || key === "Home" || key === "End") {
        if (target.type === "radio" && (key === "ArrowDown" || key === "ArrowUp")) {
          return;  // the browser moves between radio buttons and chooses one
        }
        if (target === find && (key === "Home" || key === "End")) { return; }  // in the text
        handled = move(menu, target, key);
      } else if (key === "Enter" && target === find) {
        var boxes = stops(menu).filter(isBox);
        if (boxes.length) { boxes[0].focus(); }
        handled = true;
      } else if (key === "Enter" && isBox(target)) {
        target.checked = target.type === "radio" ? true : !target.checked;
        target.dispatchEvent(new Event("change", { bubbles: true }));
        handled = true;
      }
      if (handled) {
        event.preventDefault();
        event.stopPropagation();
      }
    });

    // The focus going on to something outside the panel (Tab past its last box) closes it.
    menu.addEventListener("focusout", function (event) {
      var next = event.relatedTarget;
      if (menu.open && next && !menu.contains(next)) { close(menu, false); }
    });
  });

  document.addEventListener("click", function (event) {
    menus.forEach(function (menu) {
      if (menu.open && !menu.contains(event.target)) { close(menu, false); }
    });
  });
})();
