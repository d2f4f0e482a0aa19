// A game's page: step through the moves with buttons, the move list or the keyboard.
// Boards are SVGs the server renders (one URL per ply, so the browser caches them).

function clamp(value, low, high) {
  return Math.min(high, Math.max(low, value));
}

export function initGame() {
  const figure = document.querySelector('[data-board]');
  if (!figure) return;
  const img = figure.querySelector('[data-board-img]');
  const caption = figure.querySelector('[data-board-caption]');
  const list = document.querySelector('[data-move-list]');
  const moves = list ? [...list.querySelectorAll('[data-ply]')] : [];
  const describe = new Map(moves.map((a) => [Number(a.dataset.ply), a.dataset.describe]));
  const plies = Number(figure.dataset.plies);
  const base = figure.dataset.boardBase;
  let ply = Number(figure.dataset.ply);
  let orient = figure.dataset.orient;
  let flip = figure.dataset.flip === '1';

  const boardUrl = (n) => `${base}?ply=${n}&orient=${orient}`;
  const pageQuery = (n) => `?ply=${n}${flip ? '&flip=1' : ''}`;
  const prefetch = (n) => {
    if (n >= 0 && n <= plies) new Image().src = boardUrl(n);
  };

  /** Scroll the move list (only the list, never the page) to show `link`. */
  function reveal(link) {
    const box = list.getBoundingClientRect();
    const at = link.getBoundingClientRect();
    if (at.top < box.top) list.scrollTop -= box.top - at.top;
    else if (at.bottom > box.bottom) list.scrollTop += at.bottom - box.bottom;
  }

  function show(target, { record = true } = {}) {
    ply = clamp(target, 0, plies);
    const text = ply === 0 ? 'Start position' : describe.get(ply) ?? `ply ${ply}`;
    figure.dataset.ply = String(ply);
    img.src = boardUrl(ply);
    img.alt = `Board after ${text}`;
    caption.textContent = `${text} · ply ${ply} of ${plies}`;
    for (const a of moves) {
      if (Number(a.dataset.ply) === ply) {
        a.setAttribute('aria-current', 'step');
        reveal(a);
      } else {
        a.removeAttribute('aria-current');
      }
    }
    const steps = { first: 0, prev: ply - 1, next: ply + 1, last: plies };
    for (const [name, n] of Object.entries(steps)) {
      const link = document.querySelector(`[data-step="${name}"]`);
      const at = clamp(n, 0, plies);
      link.href = pageQuery(at);
      link.setAttribute('aria-disabled', String(at === ply));
    }
    document.querySelector('[data-flip-board]').href = `?ply=${ply}${flip ? '' : '&flip=1'}`;
    if (record) window.history.replaceState(null, '', pageQuery(ply));
    prefetch(ply + 1);
    prefetch(ply - 1);
  }

  document.addEventListener('click', (event) => {
    const link = event.target.closest('[data-step], [data-move-list] [data-ply], [data-flip-board]');
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    if ('flipBoard' in link.dataset) {
      flip = !flip;
      orient = orient === 'white' ? 'black' : 'white';
      figure.dataset.orient = orient;
      figure.dataset.flip = flip ? '1' : '0';
      show(ply);
    } else if (link.dataset.step) {
      const n = { first: 0, prev: ply - 1, next: ply + 1, last: plies }[link.dataset.step];
      show(n);
    } else {
      show(Number(link.dataset.ply));
    }
  });

  const keys = { ArrowLeft: () => ply - 1, ArrowRight: () => ply + 1, Home: () => 0, End: () => plies };
  document.addEventListener('keydown', (event) => {
    const step = keys[event.key];
    if (!step || event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.target.closest('input, select, textarea, [contenteditable]')) return;
    event.preventDefault();
    show(step());
  });

  show(ply, { record: false });
}
