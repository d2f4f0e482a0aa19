// Live jobs: Server-Sent Events from /api/events, or polling when SSE is unavailable.
// Keeps the set of active jobs, the pulsing dot on the Tasks tab, and tells listeners.

export const ACTIVE = new Set(['queued', 'running', 'waiting']);
/** Polling period when SSE is unavailable. */
export const POLL_MS = 1500;

const listeners = new Set();
const active = new Map(); // job id -> latest job JSON, while active
const versions = new Map(); // job id -> latest version seen (ignore stale snapshots)
let jobsUrl = '/api/jobs';
let pollTimer = null;
let polling = false;

/** Call `fn(job)` with every new snapshot of a job. */
export function onJob(fn) {
  listeners.add(fn);
}

/** Jobs the server rendered as active: checked at the first sync even without events. */
export function seedActive(ids) {
  for (const id of ids) if (!active.has(id)) active.set(id, { id, status: 'running' });
}

/** The latest snapshot of an active job, if any. */
export function latest(id) {
  return active.get(id);
}

/** Say something to screen readers (the page's polite live region). */
export function announce(text) {
  const region = document.querySelector('[data-announce]');
  if (region) region.textContent = text;
}

/** A job from anywhere (SSE, polling, an API answer): remember it and tell listeners. */
export function publish(job) {
  const seen = versions.get(job.id);
  if (seen !== undefined && typeof job.version === 'number' && job.version < seen) return;
  if (typeof job.version === 'number') versions.set(job.id, job.version);
  const wasActive = active.has(job.id);
  if (ACTIVE.has(job.status)) active.set(job.id, job);
  else active.delete(job.id);
  if (wasActive && !ACTIVE.has(job.status) && job.job_type) {
    announce(`${job.job_type.replace('_', ' ')} ${job.account ? job.account.username + ' ' : ''}${job.status}`);
  }
  updateDot();
  for (const fn of listeners) fn(job);
  // Polling stops when nothing is active (off the Tasks view); a new job starts it again.
  if (polling && !wasActive && ACTIVE.has(job.status)) schedulePoll();
}

function updateDot() {
  const count = active.size;
  for (const dot of document.querySelectorAll('[data-activity-dot]')) {
    dot.hidden = count === 0;
    dot.classList.toggle('is-active', count > 0);
  }
  for (const text of document.querySelectorAll('[data-activity-text]')) {
    text.textContent = count === 0 ? '' : ` (${count} active)`;
  }
}

function setMode(text) {
  for (const el of document.querySelectorAll('[data-live-status]')) el.textContent = text;
}

async function getJson(url) {
  const response = await fetch(url, { headers: { Accept: 'application/json' } });
  if (response.status === 401) {
    window.location.assign(`/login?next=${encodeURIComponent(window.location.pathname)}`);
    throw new Error('signed out');
  }
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

/** Fetch the active jobs; a job that left the list has ended: fetch its final state. */
export async function syncActive() {
  const url = new URL(jobsUrl, window.location.origin);
  for (const status of ACTIVE) url.searchParams.append('status', status);
  url.searchParams.set('limit', '200');
  const page = await getJson(url);
  const listed = new Set();
  for (const job of page.items) {
    listed.add(job.id);
    publish(job);
  }
  for (const id of [...active.keys()]) {
    if (listed.has(id)) continue;
    try {
      publish(await getJson(`/api/jobs/${encodeURIComponent(id)}`));
    } catch {
      active.delete(id); // gone (e.g. pruned): no longer active either way
    }
  }
  updateDot();
}

/** Poll while a job is active, or while the Tasks view is in sight (to see new jobs). */
function pollWanted() {
  const onTasks = document.body.dataset.page === 'tasks' && document.visibilityState === 'visible';
  return onTasks || active.size > 0;
}

/** Say on the page whether a poll is `scheduled`, under way (`busy`) or not (`idle`). */
function setPollState(state) {
  document.body.dataset.polling = state;
}

function schedulePoll() {
  if (pollTimer !== null) return;
  if (!pollWanted()) {
    setPollState('idle');
    return;
  }
  pollTimer = window.setTimeout(poll, POLL_MS);
  setPollState('scheduled');
}

async function poll() {
  pollTimer = null;
  if (!pollWanted()) {
    setPollState('idle'); // nothing running, not on Tasks: wait for a job or visibility
    return;
  }
  setPollState('busy');
  try {
    await syncActive();
    setMode(`Updating every ${POLL_MS / 1000} s`);
  } catch {
    setMode('Updates paused: the server does not answer. Retrying…');
  }
  schedulePoll();
}

function startPolling() {
  if (polling) return;
  polling = true;
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && pollWanted()) {
      if (pollTimer !== null) window.clearTimeout(pollTimer);
      pollTimer = null;
      poll();
    }
  });
  poll();
}

function connect() {
  if (typeof window.EventSource !== 'function') {
    startPolling();
    return;
  }
  const source = new EventSource('/api/events');
  source.addEventListener('open', () => {
    setMode('Live');
    // Events cover jobs active from now on; this catches any that ended before.
    syncActive().catch(() => {});
  });
  source.addEventListener('job', (event) => publish(JSON.parse(event.data)));
  source.addEventListener('error', () => {
    // No SSE (a proxy that buffers, a lost connection): poll instead.
    source.close();
    startPolling();
  });
  window.addEventListener('pagehide', () => source.close());
}

export function startLive(url) {
  if (url) jobsUrl = url;
  connect();
}

// -- formatting, as gamekeeper/web/formatting.py does it ----------------------------------

const UNKNOWN = '\u2013';
const integer = new Intl.NumberFormat('en-US');

export function fmtInt(value) {
  return value === null || value === undefined ? UNKNOWN : integer.format(value);
}

export function fmtDuration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) {
    return UNKNOWN;
  }
  const total = Math.round(seconds);
  if (total < 60) return `${total} s`;
  const minutes = Math.floor(total / 60);
  if (minutes < 60) return `${minutes}m ${String(total % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m`;
}

export function fmtRate(perSecond) {
  if (perSecond === null || perSecond === undefined) return UNKNOWN;
  return perSecond < 10 ? `${perSecond.toFixed(1)}/s` : `${integer.format(Math.round(perSecond))}/s`;
}
