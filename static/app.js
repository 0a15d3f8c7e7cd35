// RingOut page script. It enhances pages that work without it: live calls over the
// WebSocket, fetch form posts, "try these", the host page postMessage API, popup sign-in.
const $ = (sel, root = document) => root.querySelector(sel);
const body = document.body;
const allowed = (body.dataset.frameAncestors || '').split(/\s+/).filter(Boolean);

// The host page's origin, only when it is one of FRAME_ANCESTORS; never "*".
const hostOrigin = (() => {
  if (window.parent === window) return null;
  let o = location.ancestorOrigins?.[0];
  if (!o && document.referrer) try { o = new URL(document.referrer).origin; } catch {}
  return allowed.includes(o) ? o : null;
})();

// tellHost tells the host page a call's status when it changed (not resent cards). A final
// call's InProgress legs say what they became (data-outcome: NotRung, Canceled, Ended).
const told = new Map();
function tellHost(card) {
  if (!hostOrigin) return;
  const leg = (id) => { const l = $(`[data-testid=${id}]`, card)?.dataset; return l?.outcome || l?.status || ''; };
  const m = {
    type: 'ringout:status', callId: card.dataset.callId, callStatus: card.dataset.callStatus,
    callerStatus: leg('caller-leg'), calleeStatus: leg('callee-leg'),
  };
  const k = m.callStatus + m.callerStatus + m.calleeStatus;
  if (told.get(m.callId) === k) return;
  told.set(m.callId, k);
  window.parent.postMessage(m, hostOrigin);
}

// announce says what changed in a call, once: its card's data-announce in the status line
// (#announce, role=status; the cards are not a live region). quiet only notes the sentence
// (the cards the page was rendered with).
const said = new Map();
function announce(card, quiet) {
  const text = card.dataset.announce, s = said.get(card.dataset.callId) ?? new Set();
  said.set(card.dataset.callId, s);
  if (!text || s.has(text)) return;
  s.add(text);
  if (!quiet && $('#announce')) $('#announce').textContent = text;
}

// toRecent puts an ended call's row (its card's template[data-recent]) on top of Recent calls.
function toRecent(card) {
  const row = $('template[data-recent]', card)?.content.firstElementChild;
  const list = $('#recent-calls');
  if (!row || !list) return;
  let ol = $('ol', list);
  if (!ol) {
    $('.none', list)?.remove();
    ol = list.appendChild(document.createElement('ol'));
  }
  document.getElementById(row.id)?.remove();
  ol.prepend(localTimes(document.importNode(row, true)));
  while (ol.children.length > 20) ol.lastElementChild.remove();
}

// newest is the newest state each call's card was sent in (call id → [version, card]):
// a call that ends within a second (its events pushed) may reach the page by the WebSocket
// before the answer to its POST does, and that older answer must not show it ringing.
const newest = new Map();

// apply puts each top-level element of a server fragment in place of the element with its
// id, or a new live call card on top of #calls; the ended cards it replaces there are in
// Recent calls already. Focus inside a replaced card stays in it. Returns the elements
// placed (or the newer ones kept).
function apply(html) {
  const t = document.createElement('template');
  t.innerHTML = html; // inert: nothing runs
  const calls = $('#calls');
  const placed = [];
  for (let el of [...t.content.children]) {
    const card = el.dataset.testid === 'call';
    const old = el.id && document.getElementById(el.id);
    if (old && Number(el.dataset.version) < Number(old.dataset.version)) { placed.push(old); continue; } // stale
    const arrivedLive = 'live' in el.dataset;
    if (card) {
      const seen = newest.get(el.dataset.callId);
      if (seen && seen[0] > Number(el.dataset.version)) el = seen[1].cloneNode(true); // show what it is now
      newest.delete(el.dataset.callId);
      newest.set(el.dataset.callId, [Number(el.dataset.version), el.cloneNode(true)]);
      if (newest.size > 100) newest.delete(newest.keys().next().value);
    }
    if (old) {
      const a = document.activeElement, had = old.contains(a);
      old.replaceWith(el);
      if (had) ((a.dataset.testid && $(`[data-testid=${a.dataset.testid}]`, el)) || $('h3', el))?.focus();
    } else if (card && arrivedLive && calls && !('single' in calls.dataset)) {
      calls.querySelectorAll('[data-testid=call]:not([data-live])').forEach((c) => c.remove());
      calls.prepend(el);
    } else {
      if (card && !document.getElementById('recent-' + el.dataset.callId)) toRecent(el);
      continue;
    }
    placed.push(el);
    if (card) {
      tellHost(el);
      announce(el);
      if (!('live' in el.dataset)) toRecent(el);
    }
  }
  return placed;
}

// show brings a new call's card into view and gives its heading the focus.
function show(card) {
  if (!card) return;
  $('h3', card)?.focus({ preventScroll: true });
  card.scrollIntoView({ block: card.offsetHeight > innerHeight ? 'start' : 'nearest' });
}

function say(el, text) {
  el.textContent = text;
  el.hidden = false;
}

// paused marks the cards as not current while the WebSocket is down (data-stale, greyed),
// their Cancel buttons off, and back once it is up again (the server then resends them).
function paused(on) {
  document.querySelectorAll('#calls [data-testid=call]').forEach((c) => {
    c.toggleAttribute('data-stale', on);
    const b = $('[data-testid=cancel-button]', c);
    if (!b || (!on && !('paused' in b.dataset))) return;
    b.disabled = on;
    b.title = on ? 'Updates are paused while the page reconnects.' : '';
    b.toggleAttribute('data-paused', on);
  });
}

function connect(attempt = 0) {
  const status = $('#ws-status');
  const state = (s, text) => { status.dataset.state = s; say(status, text); };
  const ws = new WebSocket((location.protocol === 'https:' ? 'wss' : 'ws') + '://' + location.host + '/ws');
  let opened = false;
  ws.onopen = () => { opened = true; attempt = 0; state('live', 'Live updates'); paused(false); };
  ws.onmessage = (e) => { if (typeof e.data === 'string') apply(e.data); };
  ws.onclose = async (e) => {
    // 4001: this page's session ended (signed out, expired, ended by RingCentral): say why
    // and reload, which shows the sign-in page. No reconnecting.
    if (e.code === 4001) return state('down', e.reason || 'Signed out.'), location.reload();
    paused(true);
    const d = Math.min(15000, 500 * 2 ** attempt); // 0.5 s doubling to 15 s, with jitter
    let wait = d / 2 + Math.random() * d / 2;
    state('down', 'Reconnecting… Updates are paused.');
    if (!opened) {
      // The handshake was refused; a browser does not tell the script why, so ask. 503:
      // the server has too many pages open; it says when to try again (calls still work).
      try {
        const r = await fetch('/ws', { headers: { 'X-Requested-With': 'fetch' } });
        if (r.status === 503) {
          const secs = parseInt(r.headers.get('Retry-After'), 10) || 30;
          wait = secs * 1000 * (0.75 + Math.random() / 2);
          state('full', (await r.text()).trim() + ' in ' + Math.round(wait / 1000) + ' s…');
        }
      } catch { /* offline: the backoff retries */ }
    }
    setTimeout(() => connect(attempt + 1), wait);
  };
}

function fillTo(number) {
  const input = $('[data-testid=to-input]');
  if (input) input.value = number;
  return input;
}

function formMessage(form, text) {
  let p = $('.form-msg', form);
  if (!p) {
    p = document.createElement('p');
    p.className = 'error form-msg';
    p.setAttribute('role', 'alert');
    form.append(p);
  }
  say(p, text);
}

// data-fetch forms post by fetch; the answer is a call card (2xx) or the form with errors.
document.addEventListener('submit', (e) => {
  const form = e.target;
  if (!form.matches('form[data-fetch]')) return;
  e.preventDefault();
  send(form, e.submitter || $('button', form));
});

// send posts a data-fetch form and applies the answer; it resolves to the elements placed
// ([] when the answer was not a fragment), with ok for a 2xx.
async function send(form, button) {
  button.disabled = true;
  try {
    const res = await fetch(form.action, {
      method: 'POST', body: new URLSearchParams(new FormData(form)),
      headers: { 'X-Requested-With': 'fetch' }, credentials: 'same-origin',
    });
    if (res.status === 401) return location.reload();
    if (res.redirected) return location.assign(res.url);
    if (res.ok && form.id === 'dial-form') {
      form.querySelectorAll('[data-testid=form-error],.form-msg').forEach((el) => el.remove());
      form.querySelectorAll('[aria-invalid]').forEach((el) => el.removeAttribute('aria-invalid'));
    }
    const placed = apply(await res.text());
    if (res.ok && form.id === 'dial-form') {
      fillTo('');
      show(placed[0]);
    }
    if (!res.ok && !placed.length) formMessage(form, `Something went wrong (HTTP ${res.status}). Try again.`);
    if (!res.ok) $('#dial-form [aria-invalid=true]')?.focus();
    return Object.assign(placed, { ok: res.ok });
  } catch {
    formMessage(form, 'Could not reach the server. Check your connection and try again.');
    return [];
  } finally {
    button.disabled = false;
    // A disabled button loses the focus: put it back on the card it was in (after Cancel).
    const card = document.getElementById(form.closest('[data-testid=call]')?.id);
    if (card && document.activeElement === body) $('h3', card).focus();
  }
}

// Popup sign-in from an iframe (RingCentral's page refuses to be framed).
let popup = null;
let redeeming = false;
function again(text) {
  popup = null;
  $('[data-popup-login]').disabled = false;
  say($('#popup-message'), text);
}
function popupLogin(button) {
  $('#popup-message').hidden = true;
  popup = window.open(button.dataset.popupLogin, 'ringout-login', 'popup,width=480,height=640');
  if (!popup) return again('Your browser blocked the sign-in window. Allow pop-ups for this site, or click Sign in again.');
  button.disabled = true;
  const timer = setInterval(() => {
    if (!popup?.closed) return;
    clearInterval(timer);
    setTimeout(() => { // a message sent just before closing arrives first
      if (!redeeming) again('The sign-in window was closed before you finished. Sign in again.');
    }, 300);
  }, 500);
}

// The theme: ?theme=dark|light on the page's URL or ringout:theme from the host page,
// kept for this tab's later pages; otherwise the system's (prefers-color-scheme).
function theme(t) {
  if (t !== 'dark' && t !== 'light') return;
  document.documentElement.dataset.theme = t;
  try { sessionStorage.setItem('ringout-theme', t); } catch {}
}
try { theme(new URLSearchParams(location.search).get('theme') || sessionStorage.getItem('ringout-theme')); } catch {}

window.addEventListener('message', async (e) => {
  const d = e.data;
  if (typeof d !== 'object' || d === null) return;
  if (e.source === window.parent && allowed.includes(e.origin)) {
    if (d.type === 'ringout:dial' && typeof d.to === 'string' && d.to.length <= 64) fillTo(d.to);
    if (d.type === 'ringout:theme') theme(d.theme);
    if (d.type === 'ringout:call') return hostCall(d.to, e.origin);
    if (d.type === 'ringout:dial' || d.type === 'ringout:theme') return;
  }
  const button = $('[data-popup-login]');
  if (d.type !== 'ringout:signed-in' || !button || !popup || e.source !== popup ||
      e.origin !== location.origin || typeof d.code !== 'string') return;
  redeeming = true;
  const res = await fetch('/login/redeem', {
    method: 'POST', body: new URLSearchParams({ code: d.code, attempt: button.dataset.attempt }),
    headers: { 'X-Requested-With': 'fetch' }, credentials: 'include',
  }).catch(() => null);
  if (res?.ok) return location.reload();
  redeeming = false;
  again('Sign-in could not be completed. Sign in again.');
});

document.addEventListener('click', (e) => {
  const fill = e.target.closest('[data-fill-to]');
  if (fill) {
    e.preventDefault();
    fillTo(fill.dataset.fillTo)?.focus();
  }
  const login = e.target.closest('[data-popup-login]');
  if (login) popupLogin(login);
});

// The popup's last page hands the code to the iframe that opened it.
const done = $('[data-popup-done]');
if (done) {
  if (window.opener) {
    window.opener.postMessage({ type: 'ringout:signed-in', code: done.dataset.code }, location.origin);
    setTimeout(close, 100);
  } else {
    say($('#popup-done-message'), 'This window lost touch with the dialer. Close it and click Sign in again.');
  }
}

// Shortcuts (README): "/" focuses the number field, Escape cancels the newest call that
// can still be canceled.
document.addEventListener('keydown', (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) return;
  const target = e.key === '/' && !e.target.closest('input,select,textarea,[contenteditable]')
    ? $('[data-testid=to-input]') : e.key === 'Escape' && $('#calls [data-testid=cancel-button]');
  if (!target) return;
  e.preventDefault();
  if (e.key === '/') target.focus(); else target.click();
});

// Times in the reader's time zone (without JavaScript, the server's).
function localTimes(root) {
  const when = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
  root.querySelectorAll('time[datetime]').forEach((t) => {
    const d = new Date(t.dateTime);
    if (d.getTime()) t.textContent = when.format(d);
  });
  return root;
}
localTimes(document);

// The talk time of connected calls runs on between updates (the server renders it once).
setInterval(() => document.querySelectorAll('[data-testid=talk-time][data-since]').forEach((t) => {
  const s = Math.max(0, Math.floor((Date.now() - Number(t.dataset.since)) / 1000));
  const mm = s >= 3600 ? `${Math.floor(s / 3600)}:${String(Math.floor(s / 60) % 60).padStart(2, '0')}` : Math.floor(s / 60);
  t.textContent = `${mm}:${String(s % 60).padStart(2, '0')}`;
}), 1000);

// The host page places calls (issue 16): ringout:call {to} is the Call button pressed with
// that number (POST /calls: same checks, same rate budget); the host hears ringout:placed
// {callId} or ringout:error {message}. ringout:ready {signedIn} on every load: signing in
// or out reloads the page.
async function hostCall(to, origin) {
  const tell = (m) => window.parent.postMessage(m, origin);
  const form = $('#dial-form');
  if (typeof to !== 'string' || to.length > 64) return tell({ type: 'ringout:error', message: 'The number must be a string of at most 64 characters.' });
  if (!form) return tell({ type: 'ringout:error', message: 'Sign in to the dialer first.' });
  fillTo(to);
  const placed = (await send(form, $('[data-testid=call-button]', form))) || [];
  const id = placed.ok && placed[0]?.dataset.callId;
  if (id) return tell({ type: 'ringout:placed', callId: id });
  const why = $('#dial-form [data-testid=form-error], #dial-form .form-msg:not([hidden])');
  tell({ type: 'ringout:error', message: why?.textContent.trim() || 'The call was not placed.' });
}
if (hostOrigin) window.parent.postMessage({ type: 'ringout:ready', signedIn: !!$('[data-testid=signed-in-as]') }, hostOrigin);

// Phone links (issue 16): the settings' button makes this dialer the browser's tel: handler;
// a phone link with "at once" on (data-call-now) is placed as the Call button would place it.
function phoneLinks() {
  const p = $('[data-tel-handler]');
  if (p && navigator.registerProtocolHandler) {
    p.hidden = false;
    $('button', p).addEventListener('click', () => {
      try {
        navigator.registerProtocolHandler('tel', p.dataset.telHandler);
        say($('#tel-handler-message'), 'If your browser asks, allow it: phone links then open here.');
      } catch (err) { say($('#tel-handler-message'), `Your browser refused: ${err.message}`); }
    });
  }
  const form = $('#dial-form[data-call-now]');
  if (!form) return;
  history.replaceState(null, '', '/'); // a reload must not place the call again
  form.requestSubmit($('[data-testid=call-button]', form));
}
phoneLinks();

const to = new URLSearchParams(location.search).get('to');
if (to && !$('[data-testid=to-input]')?.value) fillTo(to);
document.querySelectorAll('[data-testid=call]').forEach((c) => { tellHost(c); announce(c, true); });
if ($('#calls')) connect();

// Colleagues by name or extension: the number field is an ARIA 1.2 combobox. The account's
// directory is fetched once (GET /directory, kept by the browser for minutes) and searched
// here, so typing sends nothing. Choosing a colleague places the call to their extension.
let directory = null, dirMatches = [], dirActive = -1;
const dirInput = (el) => el?.matches?.('[data-directory]') && el;
const loadDirectory = (input) => (directory ??= fetch(input.dataset.directory, { credentials: 'same-origin' })
  .then((r) => (r.ok ? r.json() : [])).catch(() => []));
function dirOpen(input, open) {
  const list = $('#directory-list');
  if (!list) return;
  list.hidden = !open;
  input.setAttribute('aria-expanded', String(open));
  if (!open) dirMark(input, -1);
}
function dirMark(input, i) {
  dirActive = i;
  const items = [...($('#directory-list')?.children || [])];
  items.forEach((li, j) => li.setAttribute('aria-selected', String(j === i)));
  if (items[i]) {
    input.setAttribute('aria-activedescendant', items[i].id);
    items[i].scrollIntoView({ block: 'nearest' });
  } else input.removeAttribute('aria-activedescendant');
}
async function dirSuggest(input) {
  const all = await loadDirectory(input);
  const q = input.value.trim().toLowerCase();
  const digits = /^\d+$/.test(q);
  dirMatches = q.length < 2 ? [] : all.filter((c) => (digits ? (c.ext || '').startsWith(q)
    : `${c.name} ${c.dept || ''}`.toLowerCase().includes(q))).slice(0, 8);
  $('#directory-list')?.replaceChildren(...dirMatches.map((c, i) => {
    const li = document.createElement('li');
    li.id = 'directory-option-' + i;
    li.setAttribute('role', 'option');
    li.dataset.testid = 'directory-option';
    const meta = document.createElement('span');
    meta.className = 'meta';
    meta.textContent = [c.ext && 'ext ' + c.ext, c.dept, c.shown].filter(Boolean).join(' · ');
    li.append(c.name, meta);
    return li;
  }));
  dirOpen(input, dirMatches.length > 0);
}
function dirChoose(input, i) {
  const c = dirMatches[i];
  if (!c) return;
  input.value = c.ext || c.number;
  dirOpen(input, false);
  input.form?.requestSubmit();
}
document.addEventListener('input', (e) => { if (dirInput(e.target)) dirSuggest(e.target); });
document.addEventListener('focusin', (e) => { if (dirInput(e.target)) loadDirectory(e.target); });
if (dirInput(document.activeElement)) loadDirectory(document.activeElement); // autofocused before this ran
document.addEventListener('focusout', (e) => { if (dirInput(e.target)) dirOpen(e.target, false); });
document.addEventListener('mousedown', (e) => { if (e.target.closest('#directory-list')) e.preventDefault(); });
document.addEventListener('click', (e) => {
  const li = e.target.closest('#directory-list [role=option]');
  if (li) dirChoose($('[data-directory]'), [...li.parentNode.children].indexOf(li));
});
// Capture: before the page's shortcuts, which leave a handled key alone.
document.addEventListener('keydown', (e) => {
  const input = dirInput(e.target), n = dirMatches.length;
  if (!input || !n) return;
  const open = input.getAttribute('aria-expanded') === 'true';
  if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
    e.preventDefault();
    if (!open) dirOpen(input, true);
    const down = e.key === 'ArrowDown';
    dirMark(input, down ? (dirActive + 1) % n : (dirActive <= 0 ? n - 1 : dirActive - 1));
  } else if (open && e.key === 'Enter' && dirActive >= 0) {
    e.preventDefault();
    dirChoose(input, dirActive);
  } else if (open && e.key === 'Escape') {
    e.preventDefault();
    dirOpen(input, false);
  }
}, true);
