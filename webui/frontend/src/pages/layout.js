// Every page's header: the menu button that folds the navigation on narrow screens, and the inbox
// counts kept current by polling /inbox/counts (every 30 s, paused while the tab is hidden).
// Without this script the header simply shows everything and the counts are those of the last load.
// A module runs once the document is parsed, so the elements are there.
const POLL_MS = 30000;

function setUpMenu() {
  const button = document.getElementById('menu-toggle');
  const menu = document.getElementById('site-menu');
  if (!button || !menu) { return; }
  button.hidden = false;
  button.addEventListener('click', () => {
    const open = button.getAttribute('aria-expanded') !== 'true';
    button.setAttribute('aria-expanded', String(open));
    menu.classList.toggle('open', open);
  });
}

// A count past the cap (the nav's data-count-cap, Engine.count_cap) shows as "999+" with a title saying so,
// as the server renders it (webui/pages/common.py count_label): the server stops counting there.
function label(badge, n, nav) {
  const cap = Number(nav.getAttribute('data-count-cap'));
  const over = cap > 0 && n > cap;
  badge.textContent = over ? `${cap}+` : String(n);
  if (!badge.hasAttribute('data-title')) { badge.setAttribute('data-title', badge.getAttribute('title') || ''); }
  const title = over ? nav.getAttribute('data-capped-title') : badge.getAttribute('data-title');
  if (title) { badge.setAttribute('title', title); } else { badge.removeAttribute('title'); }
}

function show(counts, nav) {
  // every badge that shows a count: data-inbox-count="total" or a role id (the inbox's own tabs may add more)
  document.querySelectorAll('[data-inbox-count]').forEach((badge) => {
    const key = badge.getAttribute('data-inbox-count');
    const n = key === 'total' ? counts.total : (counts.roles[key] || 0);
    label(badge, n, nav);
    badge.classList.toggle('zero', n === 0);
  });
  // the navigation's per-role links: hidden while the role has nothing for this user
  document.querySelectorAll('.mainnav a[data-role]').forEach((link) => {
    const n = counts.roles[link.getAttribute('data-role')] || 0;
    const badge = link.querySelector('.count');
    if (badge) { label(badge, n, nav); }
    link.hidden = n === 0;
  });
  // the inbox page offers to show the current list once it no longer matches what it shows
  const changed = document.getElementById('inbox-changed');
  if (changed) { changed.hidden = counts.total === Number(changed.getAttribute('data-loaded-total')); }
  document.dispatchEvent(new CustomEvent('salesflow:inbox-counts', { detail: counts }));
}

function setUpCounts() {
  const nav = document.querySelector('.mainnav[data-counts-url]');
  if (!nav) { return; }
  const url = nav.getAttribute('data-counts-url');
  let timer = null;

  const poll = () => fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
    .then((response) => (response.ok ? response.json() : null))
    .then((counts) => { if (counts && counts.roles) { show(counts, nav); } })
    .catch(() => { /* offline for a moment: the next poll tries again */ });

  const start = () => { if (timer === null) { timer = window.setInterval(poll, POLL_MS); } };
  const stop = () => {
    if (timer !== null) { window.clearInterval(timer); }
    timer = null;
  };

  document.addEventListener('visibilitychange', () => {
    if (document.hidden) {
      stop();
    } else {
      poll(); // back on the tab: bring the counts up to date at once
      start();
    }
  });
  if (!document.hidden) { start(); }
}

document.documentElement.classList.add('js');
setUpMenu();
setUpCounts();
