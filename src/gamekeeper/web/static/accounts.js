// The Accounts page: add an account and start syncs through the API.
import { publish } from './live.js';

async function postJson(url, body) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => null);
  return { response, data };
}

function problem(response, data) {
  return data?.error?.message ?? `HTTP ${response.status}`;
}

function say(el, text, { error = false, link = null } = {}) {
  el.classList.toggle('form-status--error', error);
  el.replaceChildren(text);
  if (link) {
    const a = document.createElement('a');
    a.href = link.href;
    a.textContent = link.text;
    el.append(' ', a);
  }
}

function initAdd(form) {
  const status = form.parentElement.querySelector('[data-form-status]');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    say(status, 'Adding…');
    const { response, data: body } = await postJson('/api/accounts', {
      platform: data.get('platform'),
      username: String(data.get('username')).trim(),
    });
    if (response.ok) {
      // A fresh page lists the account with its counts; the fragment scrolls to it.
      window.location.assign(`/accounts?added=${body.id}#account-${body.id}`);
    } else {
      say(status, `Could not add the account: ${problem(response, body)}`, { error: true });
    }
  });
}

function numberOrNull(value) {
  const text = String(value ?? '').trim();
  return text === '' ? null : Number(text);
}

function initSync(form) {
  const kind = form.querySelector('[data-sync-kind]');
  const status = form.parentElement.querySelector('[data-form-status]');
  const showFields = () => {
    for (const group of form.querySelectorAll('[data-for]')) {
      group.hidden = !group.dataset.for.split(' ').includes(kind.value);
    }
  };
  kind.addEventListener('change', showFields);
  showFields();
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const body = { job_type: kind.value };
    const names = kind.value === 'sync_moves' ? ['limit', 'delay_ms'] : ['since', 'max'];
    for (const name of names) {
      const value = name === 'since' ? String(data.get(name) || '') || null : numberOrNull(data.get(name));
      if (value !== null) body[name] = value;
    }
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    say(status, 'Starting…');
    const { response, data: job } = await postJson(
      `/api/accounts/${form.dataset.accountId}/sync`, body,
    );
    button.disabled = false;
    if (response.ok) {
      publish(job); // the dot lights up at once
      say(status, `Started ${job.id}.`, { link: { href: '/tasks', text: 'Follow it on Tasks' } });
    } else if (response.status === 409 && job?.error?.active_job_id) {
      say(status, problem(response, job), {
        error: true, link: { href: '/tasks', text: 'See it on Tasks' },
      });
    } else {
      say(status, `Could not start: ${problem(response, job)}`, { error: true });
    }
  });
}

export function initAccounts() {
  const add = document.querySelector('[data-add-account]');
  if (add) initAdd(add);
  for (const form of document.querySelectorAll('[data-sync-form]')) initSync(form);
}
