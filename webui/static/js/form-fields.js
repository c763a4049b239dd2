// Task and start forms: conditional fields shown and hidden as people type, and focus on the first
// invalid field after a failed submit. The server decides the same way (engine/form_conditions.py):
// a row carries data-show-if = [{field: [values]}], shown while any entry has all its fields at one
// of their values; a hidden field counts as empty for the others. Hidden controls are disabled, so
// they are not sent (the engine would drop them anyway).
(function () {
  "use strict";

  function rowOf(form, name) {
    return form.querySelector('.field[data-field="' + CSS.escape(name) + '"]');
  }

  function valueOf(form, name) {
    var row = rowOf(form, name);
    if (!row || row.hidden) {
      return "";
    }
    var checked = row.querySelector("input[type=radio]:checked, input[type=checkbox]:checked");
    if (checked) {
      return checked.value;
    }
    var control = row.querySelector("select, input:not([type=radio]):not([type=checkbox]), textarea");
    return control && control.name ? control.value.trim() : "";
  }

  function holds(form, conditions) {
    return conditions.some(function (condition) {
      return Object.keys(condition).every(function (name) {
        return condition[name].indexOf(valueOf(form, name)) >= 0;
      });
    });
  }

  function update(form, rows) {
    // repeat until stable: hiding a field may hide the fields that depend on it
    for (var round = 0; round <= rows.length; round++) {
      var changed = false;
      rows.forEach(function (row) {
        var show = holds(form, JSON.parse(row.getAttribute("data-show-if")));
        if (row.hidden === show) {
          row.hidden = !show;
          row.querySelectorAll("input, select, textarea, button").forEach(function (el) {
            el.disabled = !show;
          });
          changed = true;
        }
      });
      if (!changed) {
        return;
      }
    }
  }

  function focusFirstInvalid(form) {
    var row = form.querySelector(".field.has-error:not([hidden])");
    if (!row) {
      return;
    }
    var control = row.querySelector("input:not([type=hidden]), select, textarea");
    if (control) {
      control.focus();
    }
  }

  document.querySelectorAll("form.task-form").forEach(function (form) {
    var rows = Array.prototype.slice.call(form.querySelectorAll(".field[data-show-if]"));
    if (rows.length) {
      update(form, rows);
      form.addEventListener("input", function () { update(form, rows); });
      form.addEventListener("change", function () { update(form, rows); });
    }
    form.querySelectorAll(".error-summary a[data-focus]").forEach(function (link) {
      link.addEventListener("click", function (event) {
        var target = document.getElementById(link.getAttribute("data-focus")) ||
          rowOf(form, link.getAttribute("href").replace("#row-", "")).querySelector("input, select, textarea");
        if (target) {
          event.preventDefault();
          target.focus();
        }
      });
    });
    focusFirstInvalid(form);
  });
}());
