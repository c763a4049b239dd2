// The `translate` service of bpmn-js, diagram-js, the properties panel, bpmnlint's overlays and dmn-js:
// a catalogue lookup in the page's language, then the {placeholder} replacement diagram-js does.
// Strings a catalogue lacks stay English and are collected in window.salesflowUntranslated, so a
// browser test can list what the Chinese UI still misses.

/** The page's language as base.html declares it (<html lang="zh-CN"> or "en"): "zh" or "en". */
export function pageLanguage() {
  const lang = (typeof document !== 'undefined' && document.documentElement.lang) || 'zh';
  return lang.toLowerCase().startsWith('en') ? 'en' : 'zh';
}

function missed(template) {
  if (typeof window === 'undefined') { return; }
  const seen = window.salesflowUntranslated || (window.salesflowUntranslated = []);
  if (seen.indexOf(template) < 0) { seen.push(template); }
}

/**
 * A didi module that replaces diagram-js's translate service.
 * @param {Object<string, string>} catalogue English template -> text in the page's language
 * @param {{record?: boolean}} options record: collect templates the catalogue lacks
 */
export function translateModule(catalogue, { record = false } = {}) {
  function translate(template, replacements) {
    replacements = replacements || {};
    let text = template;
    if (Object.prototype.hasOwnProperty.call(catalogue, template)) {
      text = catalogue[template];
    } else if (record && typeof template === 'string' && /[A-Za-z]{2,}/.test(template)) {
      missed(template);
    }
    return String(text).replace(/{([^}]+)}/g, (match, key) => {
      const value = replacements[key];
      return value !== undefined && value !== null ? String(value) : '{' + key + '}';
    });
  }
  return { translate: ['value', translate] };
}
