// DMN modeler (decision tables) for process owners, in the page's language.
// The modeler page's DMN tab imports it when the tab first opens (model-editor/dmn-tab.js).
import DmnModeler from 'dmn-js/lib/Modeler';

import { pageLanguage, translateModule } from './i18n/translate.js';
import zh from './i18n/zh-dmn.js';

/**
 * @param {{container: HTMLElement, lang?: string}} options lang: "zh" or "en", the page's language when not given
 * @returns {DmnModeler}
 */
export function createDmnModeler({ container, lang = pageLanguage() }) {
  const additionalModules = lang === 'en' ? [] : [translateModule(zh, { record: true })];
  // per view: dmn-js 17 replaces `common.additionalModules` with each view's own list
  return new DmnModeler({
    container,
    drd: { additionalModules },
    decisionTable: { additionalModules },
    literalExpression: { additionalModules },
    boxedExpression: { additionalModules }
  });
}
