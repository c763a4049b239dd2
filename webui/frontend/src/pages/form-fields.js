// Task and start forms: conditional fields shown and hidden as people type, and focus on the first
// invalid field after a failed submit. The server decides the same way (engine/form_conditions.py):
// a row carries data-show-if = [{field: [values]}], shown while any entry has all its fields at one
// of their values; a hidden field counts as empty for the others. Hidden controls are disabled, so
// they are not sent (the engine would drop them anyway).

function rowOf(form, name) {
  return form.querySelector(`.field[data-field="${CSS.escape(name)}"]`);
}

function valueOf(form, name) {
  const row = rowOf(form, name);
  if (!row || row.hidden) { return ''; }
  const checked = row.querySelector('input[type=radio]:checked, input[type=checkbox]:checked');
  if (checked) { return checked.value; }
  const control = row.querySelector('select, input:not([type=radio]):not([type=checkbox]), textarea');
  return control && control.name ? control.value.trim() : '';
}

function holds(form, conditions) {
  return conditions.some((condition) => Object.keys(condition)
    .every((name) => condition[name].indexOf(valueOf(form, name)) >= 0));
}

function update(form, rows) {
  // repeat until stable: hiding a field may hide the fields that depend on it
  for (let round = 0; round <= rows.length; round++) {
    let changed = false;
    for (const row of rows) {
      const show = holds(form, JSON.parse(row.getAttribute('data-show-if')));
      if (row.hidden === show) {
        row.hidden = !show;
        row.querySelectorAll('input, select, textarea, button').forEach((control) => { control.disabled = !show; });
        changed = true;
      }
    }
    if (!changed) { return; }
  }
}

function focusFirstInvalid(form) {
  const row = form.querySelector('.field.has-error:not([hidden])');
  const control = row && row.querySelector('input:not([type=hidden]), select, textarea');
  if (control) { control.focus(); }
}

function setUp(form) {
  const rows = Array.from(form.querySelectorAll('.field[data-show-if]'));
  if (rows.length) {
    update(form, rows);
    form.addEventListener('input', () => update(form, rows));
    form.addEventListener('change', () => update(form, rows));
  }
  form.querySelectorAll('.error-summary a[data-focus]').forEach((link) => {
    link.addEventListener('click', (event) => {
      const target = document.getElementById(link.getAttribute('data-focus'))
        || rowOf(form, link.getAttribute('href').replace('#row-', '')).querySelector('input, select, textarea');
      if (target) {
        event.preventDefault();
        target.focus();
      }
    });
  });
  focusFirstInvalid(form);
}

document.querySelectorAll('form.task-form').forEach(setUp);
