// Small DOM helpers the page scripts share.

/**
 * A new element: attribute `text` becomes its text, every other one an attribute; strings among the
 * children become text nodes.
 * @param {string} tag
 * @param {Object<string, string>} [attrs]
 * @param {Array<Node|string>} [children]
 * @returns {HTMLElement}
 */
export function el(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === 'text') { node.textContent = value; } else { node.setAttribute(name, value); }
  }
  for (const child of children) {
    node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return node;
}

/** Replace `{key}` in a translated template with `values[key]` (unknown keys stay as they are). */
export function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (all, key) => (
    Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : all));
}

/** The text of an error for a page or a data-* attribute. */
export function messageOf(err) {
  return String((err && err.message) || err);
}

/**
 * Show on a diagram's container that it could not be drawn: the reason in data-error (for tests and
 * support), the page's translated text (data-error-text) to the person.
 */
export function diagramFailed(container, message) {
  container.dataset.error = message;
  container.replaceChildren(el('p', { class: 'diagram-error', text: container.dataset.errorText || message }));
}
