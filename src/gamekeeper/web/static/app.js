// The dashboard's scripts: live job updates on every page, then what the page needs.
// Plain ES modules, no build step; everything comes from this server.
import { startLive } from './live.js';
import { initTasks } from './tasks.js';
import { initAccounts } from './accounts.js';
import { initGame } from './game.js';

const pages = { tasks: initTasks, accounts: initAccounts, games: initGame };

/** Filter forms leave empty fields out of the URL: `?speed=blitz`, not `?account=&…`. */
function tidyGetForms() {
  for (const form of document.querySelectorAll('form[method="get"]')) {
    form.addEventListener('submit', () => {
      for (const control of form.elements) {
        if (control.name && control.value === '') control.disabled = true;
      }
      // Back to this page later (bfcache), the fields must work again.
      window.addEventListener('pageshow', () => {
        for (const control of form.elements) control.disabled = false;
      }, { once: true });
    });
  }
}

function main() {
  tidyGetForms();
  const page = document.body.dataset.page;
  pages[page]?.();
  if ('live' in document.body.dataset) startLive(document.body.dataset.jobsUrl);
  // Scripts are deferred: until now the forms would submit as plain HTML (tests wait).
  document.body.dataset.ready = 'true';
}

main();
