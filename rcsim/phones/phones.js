// The virtual phones page: refreshes the list of phones every 500 ms and sends the
// buttons with fetch (the forms also work without this script).
'use strict';
const list = document.getElementById('phones');
let last = list.innerHTML;

async function refresh() {
  try {
    const resp = await fetch(list.dataset.src, { cache: 'no-store' });
    if (!resp.ok) return;
    const html = await resp.text();
    if (html === last) return;
    last = html;
    const next = document.createElement('div');
    next.innerHTML = html;
    // Keep the calls that did not change, so their ringing animation does not restart.
    const kids = [...next.childNodes].map(n => {
      const old = n.id && document.getElementById(n.id);
      return old && old.isEqualNode(n) ? old : n;
    });
    list.replaceChildren(...kids);
  } catch {
    // The simulator is restarting; try again at the next tick.
  }
}

list.addEventListener('submit', async e => {
  e.preventDefault();
  const form = e.target;
  const body = new URLSearchParams(new FormData(form, e.submitter));
  for (const b of form.querySelectorAll('button')) b.disabled = true;
  try {
    // getAttribute: form.action would be the buttons named "action".
    await fetch(form.getAttribute('action'), { method: 'POST', body, headers: { Accept: 'application/json' } });
  } finally {
    last = '';
    await refresh();
  }
});

setInterval(refresh, 500);
