// History page: step through an instance's audit trail on its diagram, and verify the trail.
// Reads the markup of templates/pages/history.html (URLs and translated texts in data-* attributes).
// The states after every step are fetched once (data-states-url); moving the slider only redraws
// markers on the one viewer.
import { renderDiagram, showState } from '../viewer.js';
import { diagramFailed, el, fill, messageOf } from '../page-kit/dom.js';
import { getJson } from '../page-kit/http.js';

const byId = (id) => document.getElementById(id);

class HistoryPage {
  constructor(root) {
    this.root = root;
    this.total = parseInt(root.dataset.steps, 10) || 0;
    this.slider = byId('step-slider');
    this.diagram = byId('diagram');
    this.entries = {};
    for (const item of root.querySelectorAll('#timeline > li.entry')) {
      this.entries[item.dataset.position] = item;
    }
    this.states = {}; // position -> state after that step (those that replayed)
    this.brokenAt = null; // the first step that does not verify, once known
    this.loadError = null;
    this.loaded = false;
    this.viewer = null;
    this.step = this.total;
  }

  start() {
    this.bind();
    this.show(this.initialStep());
    const diagram = getJson(this.root.dataset.diagramUrl)
      .then((d) => renderDiagram(this.diagram, d.bpmn, {}))
      .then((result) => { this.viewer = result.viewer; })
      .catch((err) => diagramFailed(this.diagram, messageOf(err)));
    const states = getJson(this.root.dataset.statesUrl).then((body) => {
      (body.states || []).forEach((s) => { this.states[s.position] = s; });
      if (!body.verified) { this.trailBroken(body.first_mismatch); }
    }).catch((err) => {
      // a failed fetch is not a broken trail: say what failed, never "does not verify"
      this.loadError = messageOf(err);
      this.note(this.loadError);
    });
    Promise.all([diagram, states]).then(() => {
      this.loaded = true;
      this.show(this.step);
      this.root.dataset.ready = 'true';
    });
  }

  initialStep() {
    const match = /^#step-(\d+)$/.exec(window.location.hash || '');
    return match ? parseInt(match[1], 10) : this.total;
  }

  bind() {
    this.slider.addEventListener('input', () => this.show(parseInt(this.slider.value, 10)));
    byId('step-prev').addEventListener('click', () => this.show(this.step - 1));
    byId('step-next').addEventListener('click', () => this.show(this.step + 1));
    this.root.addEventListener('click', (event) => {
      const link = event.target.closest('.step-link');
      if (link) { this.show(parseInt(link.dataset.position, 10)); }
    });
    // left/right arrows step from anywhere on the timeline, as on the slider itself
    byId('timeline').addEventListener('keydown', (event) => {
      if (event.key === 'ArrowLeft' || event.key === 'ArrowUp') { this.show(this.step - 1); event.preventDefault(); }
      if (event.key === 'ArrowRight' || event.key === 'ArrowDown') { this.show(this.step + 1); event.preventDefault(); }
    });
    const verify = byId('verify');
    verify.addEventListener('click', () => this.verify(verify));
  }

  show(position) {
    if (!this.total) { return; }
    const n = Math.max(1, Math.min(this.total, position || 1));
    const previous = this.entries[this.step];
    if (previous) { previous.classList.remove('current'); previous.removeAttribute('aria-current'); }
    this.step = n;
    const entry = this.entries[n];
    this.slider.value = String(n);
    const text = fill(this.root.dataset.stepText, { n, total: this.total });
    this.slider.setAttribute('aria-valuetext', text);
    byId('step-number').textContent = text;
    byId('step-prev').disabled = n <= 1;
    byId('step-next').disabled = n >= this.total;
    if (entry) {
      entry.classList.add('current');
      entry.setAttribute('aria-current', 'step');
      entry.scrollIntoView({ block: 'nearest' });
      const line = entry.querySelector('.line');
      byId('step-summary').textContent = `${n}. ${line ? line.textContent.replace(/\s+/g, ' ').trim() : ''}`;
    }
    this.root.dataset.step = String(n);
    if (this.loaded || Object.keys(this.states).length) { this.showState(n, entry); }
  }

  showState(n, entry) {
    const state = this.states[n];
    const current = entry && entry.dataset.task ? [entry.dataset.task] : [];
    if (!state) {
      this.note(this.loadError || fill(this.root.dataset.unavailableText, { position: this.brokenAt || n }));
      this.markers({ completed: [], active: [], current });
      this.data(null);
      return;
    }
    byId('step-note').hidden = true;
    this.markers({ completed: state.completed, active: state.active, current });
    this.data(state.shown);
  }

  markers(state) {
    if (!this.viewer) { return; }
    const result = showState(this.viewer, state);
    this.diagram.dataset.step = String(this.step);
    if (result.missing.length) {
      this.diagram.dataset.missing = result.missing.join(' ');
    } else {
      delete this.diagram.dataset.missing;
    }
  }

  data(shown) {
    const rows = (shown || []).map((item) => {
      const pair = el('div', { class: 'pair' }, [el('dt', { text: item.label }), el('dd', { text: item.value })]);
      pair.dataset.field = item.field;
      return pair;
    });
    if (shown && !rows.length) { rows.push(el('p', { class: 'empty', text: this.root.dataset.noDataText })); }
    byId('step-data').replaceChildren(...rows);
  }

  note(text) {
    const note = byId('step-note');
    note.textContent = text;
    note.hidden = false;
  }

  trailBroken(mismatch) {
    this.brokenAt = mismatch ? mismatch.position : 1;
    const warning = byId('trail-warning');
    const text = mismatch && mismatch.kind !== 'chain' ? warning.dataset.replayText : warning.dataset.chainText;
    warning.textContent = fill(text, { position: this.brokenAt });
    warning.hidden = false;
    this.markBroken(this.brokenAt);
  }

  markBroken(position) {
    this.root.querySelectorAll('#timeline > li.broken').forEach((item) => item.classList.remove('broken'));
    if (this.entries[position]) { this.entries[position].classList.add('broken'); }
  }

  verify(button) {
    const out = byId('verify-result');
    const label = button.textContent;
    button.disabled = true;
    button.textContent = button.dataset.busyText;
    out.hidden = false;
    out.dataset.state = 'running';
    out.replaceChildren();
    getJson(button.dataset.verifyUrl).then((body) => {
      out.dataset.state = body.verified ? 'verified' : 'broken';
      out.append(el('p', { class: 'verdict', text: body.message }));
      if (!body.verified && body.first_mismatch) {
        const m = body.first_mismatch;
        out.dataset.position = String(m.position);
        if (isGiven(m.expected) || isGiven(m.actual)) { out.append(this.comparison(m)); }
        this.trailBroken(m);
        this.show(Math.min(m.position, this.total));
      }
    }).catch((err) => {
      out.dataset.state = 'error';
      out.textContent = `${button.dataset.failedText} ${messageOf(err)}`;
    }).then(() => {
      button.disabled = false;
      button.textContent = label;
    });
  }

  /** The recorded and the replayed values of the first step that does not verify, side by side. */
  comparison(m) {
    const out = byId('verify-result');
    const rows = [[out.dataset.recordedText, m.expected], [out.dataset.replayedText, m.actual]]
      .flatMap(([label, value]) => [
        el('dt', { text: label }),
        el('dd', {}, [el('pre', { text: JSON.stringify(value, null, 2) })])
      ]);
    return el('dl', { class: 'mismatch' }, rows);
  }
}

function isGiven(value) {
  return value !== null && value !== undefined;
}

const root = byId('history-page');
if (root) { new HistoryPage(root).start(); }
