// Modeler page: leaving the page with unsaved changes asks first.
// "Dirty" turns true at once on any edit (so a click right after typing is guarded), then is worked out
// again by comparing a snapshot of every file with the one taken when loaded or last deployed: undoing
// an edit clears it. data-dirty on the page's root shows the state (the browser tests read it).

const RECOMPUTE_MS = 300;

/**
 * @param {{root: HTMLElement, confirmText: string, snapshot: () => Promise<string>}} options
 *   snapshot: everything that would be deployed, as one string that compares equal when nothing changed
 * @returns {{changed: () => void, saved: () => Promise<void>}}
 */
export function unsavedGuard({ root, confirmText, snapshot }) {
  let baseline = null; // the snapshot when loaded or last deployed
  let recompute = null;
  let dirty = false;
  let leaving = false; // the person confirmed leaving through one of our links

  function setDirty(value) {
    dirty = value;
    root.dataset.dirty = value ? 'true' : 'false';
  }

  window.addEventListener('beforeunload', (event) => {
    if (!dirty || leaving) { return undefined; }
    event.preventDefault();
    event.returnValue = confirmText; // browsers show their own wording
    return confirmText;
  });

  // our own links ask in the page's language, and only when something would be lost
  document.addEventListener('click', (event) => {
    const link = event.target.closest && event.target.closest('a[href]');
    if (!link || !dirty || event.defaultPrevented || event.button !== 0) { return; }
    if (event.ctrlKey || event.metaKey || event.shiftKey || link.target === '_blank') { return; }
    const href = link.getAttribute('href');
    if (!href || href.charAt(0) === '#' || link.origin !== window.location.origin) { return; }
    event.preventDefault();
    if (window.confirm(confirmText)) {
      leaving = true;
      window.location.href = link.href;
    }
  }, true);

  return {
    /** Something was edited (before the first snapshot: nothing to lose yet). */
    changed() {
      if (baseline === null) { return; }
      setDirty(true);
      clearTimeout(recompute);
      recompute = setTimeout(() => snapshot().then((now) => setDirty(now !== baseline)), RECOMPUTE_MS);
    },
    /** What the page holds now is what the server has (loaded or deployed). */
    saved() {
      clearTimeout(recompute);
      return snapshot().then((now) => { baseline = now; setDirty(false); });
    }
  };
}
