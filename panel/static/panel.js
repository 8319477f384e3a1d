// Check-all boxes: a checkbox with data-check-all="NAME" ticks every box with data-group="NAME".
document.addEventListener("change", function (event) {
  var target = event.target;
  var group = target.getAttribute && target.getAttribute("data-check-all");
  if (!group) { return; }
  document.querySelectorAll('input[type=checkbox][data-group="' + group + '"]').forEach(function (box) {
    if (!box.disabled) { box.checked = target.checked; }
  });
});
