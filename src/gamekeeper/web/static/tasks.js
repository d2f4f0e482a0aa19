// The Tasks page: fills job cards from live snapshots, cancels jobs, ticks wait countdowns,
// and swaps in the server's lists when a job starts or ends (so history is rendered once).
import {
  ACTIVE, announce, fmtDuration, fmtInt, fmtRate, latest, onJob, publish, seedActive,
} from './live.js';

/** Item errors a card lists (as gamekeeper/web/jobs.py CARD_ERRORS). */
const CARD_ERRORS = 5;

let lists = null;
let refreshTimer = null;

function field(card, name) {
  return card.querySelector(`[data-field="${name}"]`);
}

function setText(card, name, text) {
  const el = field(card, name);
  if (el && el.textContent !== text) el.textContent = text;
}

function fillPhases(card, phases) {
  const list = field(card, 'phases');
  if (!list) return;
  const items = phases.map((phase) => {
    const li = document.createElement('li');
    li.className = `phase phase--${phase.status}`;
    li.textContent = phase.name;
    if (phase.note) li.title = phase.note;
    return li;
  });
  list.replaceChildren(...items);
}

function fillProgress(card, job) {
  const p = job.progress;
  const bar = field(card, 'progress');
  if (bar) {
    if (p.total) {
      bar.max = p.total;
      bar.value = p.done;
    } else {
      bar.removeAttribute('value'); // indeterminate: the total is not known yet
    }
  }
  setText(card, 'phase', job.phase || job.status);
  setText(card, 'percent', p.fraction === null ? '' : `${(p.fraction * 100).toFixed(1)}%`);
  if (p.unit === 'bytes') {
    // A file import counts bytes: show them in MB.
    const mb = (value) => (value === null || value === undefined ? null : (value / 1e6).toFixed(1));
    setText(card, 'done', `${mb(p.done)} MB`);
    setText(card, 'total', p.total === null ? fmtInt(null) : `${mb(p.total)} MB`);
    setText(card, 'rate', p.rate_per_s === null ? fmtRate(null) : `${mb(p.rate_per_s)} MB/s`);
  } else {
    setText(card, 'done', fmtInt(p.done));
    setText(card, 'total', fmtInt(p.total));
    setText(card, 'rate', fmtRate(p.rate_per_s));
  }
  setText(card, 'eta', fmtDuration(p.eta_s));
}

function fillWait(card, wait) {
  const box = field(card, 'wait');
  if (!box) return;
  box.hidden = !wait;
  if (!wait) return;
  setText(card, 'wait-reason', wait.reason);
  field(card, 'countdown').dataset.resumeAt = wait.resume_at;
  tickCountdowns();
}

function fillErrors(card, job) {
  const box = field(card, 'errors-box');
  if (!box) return;
  box.hidden = job.errors.length === 0;
  setText(card, 'error-count', fmtInt(job.counters.failed ?? job.errors.length));
  const items = job.errors.slice(-CARD_ERRORS).reverse().map((error) => {
    const li = document.createElement('li');
    const code = document.createElement('code');
    code.textContent = error.item;
    li.append(code, ` ${error.message}`);
    return li;
  });
  field(card, 'errors').replaceChildren(...items);
}

/** Bring an active job's card up to date with a snapshot. */
function fill(card, job) {
  card.dataset.status = job.status;
  card.className = card.className.replace(/job--\w+/, `job--${job.status}`);
  const badge = field(card, 'status');
  badge.textContent = job.status;
  badge.className = `badge badge--${job.status}`;
  fillPhases(card, job.phases);
  fillProgress(card, job);
  fillWait(card, job.wait);
  for (const dd of card.querySelectorAll('[data-counter]')) {
    const value = job.counters[dd.dataset.counter] ?? 0;
    dd.textContent = fmtInt(value);
    dd.parentElement.classList.toggle('is-zero', value === 0);
  }
  fillErrors(card, job);
  const cancel = card.querySelector('[data-action="cancel"]');
  if (cancel && job.cancel_requested) {
    cancel.disabled = true;
    cancel.textContent = 'Cancelling…';
  }
}

function tickCountdowns() {
  for (const el of document.querySelectorAll('[data-field="countdown"]')) {
    const at = Date.parse(el.dataset.resumeAt || '');
    if (Number.isNaN(at)) continue;
    const left = (at - Date.now()) / 1000;
    el.textContent = left > 0 ? fmtDuration(left) : 'a moment';
  }
}

/** Re-render both lists on the server: a job started, ended, or is new to this page. */
function scheduleRefresh() {
  if (refreshTimer !== null) return;
  refreshTimer = window.setTimeout(refresh, 250);
}

async function refresh() {
  refreshTimer = null;
  const response = await fetch('/tasks/lists', { headers: { Accept: 'text/html' } });
  if (response.redirected || !response.ok) return;
  const focused = document.activeElement?.id;
  lists.innerHTML = await response.text();
  // The server's snapshot may be a moment older than the latest event: apply that.
  for (const card of lists.querySelectorAll('[data-active-list] [data-job]')) {
    const job = latest(card.dataset.job);
    if (job?.progress) fill(card, job);
  }
  if (focused) document.getElementById(focused)?.focus();
}

function onSnapshot(job) {
  const card = document.getElementById(`job-${job.id}`);
  const shownActive = card && ACTIVE.has(card.dataset.status);
  if (shownActive && ACTIVE.has(job.status)) {
    fill(card, job);
  } else if (shownActive || (!card && ACTIVE.has(job.status))) {
    scheduleRefresh(); // it ended (goes to history), or it is new here
  }
}

async function onClick(event) {
  const button = event.target.closest('[data-action="cancel"]');
  if (!button) return;
  button.disabled = true;
  button.textContent = 'Cancelling…';
  const response = await fetch(`/api/jobs/${encodeURIComponent(button.dataset.jobId)}/cancel`, {
    method: 'POST',
    headers: { Accept: 'application/json' },
  });
  if (response.ok) {
    announce('Cancel requested: the job stops at its next checkpoint.');
    publish(await response.json());
  } else {
    button.disabled = false;
    button.textContent = 'Cancel';
    const body = await response.json().catch(() => null);
    announce(`Could not cancel: ${body?.error?.message ?? `HTTP ${response.status}`}`);
  }
}

export function initTasks() {
  lists = document.querySelector('[data-task-lists]');
  if (!lists) return;
  seedActive([...lists.querySelectorAll('[data-active-list] [data-job]')].map((c) => c.dataset.job));
  onJob(onSnapshot);
  lists.addEventListener('click', onClick);
  tickCountdowns();
  window.setInterval(tickCountdowns, 1000);
}
