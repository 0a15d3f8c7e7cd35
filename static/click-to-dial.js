// RingOut click-to-dial, for an intranet page that frames the dialer (README). Include it
// next to the iframe: <script src="https://DIALER/static/click-to-dial.js" defer></script>.
// Every tel: link (its whole URL is sent: the dialer reads tel: URLs, and refuses an
// extension), and every element with data-ringout-number (its value, or else its text, is
// the number), then places the call in the dialer with one click: it sends ringout:call
// to the dialer's iframe, to the dialer's origin only. That origin is this script's own, or
// data-ringout-origin on the script tag; data-ringout-frame="#id" picks the iframe (else the
// first iframe on that origin). Without the iframe a tel: link stays an ordinary link.
// Each button's data-ringout-state says how it went: calling, placed or error (title: why).
(() => {
  const me = document.currentScript || document.querySelector('script[src*="click-to-dial.js"]');
  const origin = me.dataset.ringoutOrigin || new URL(me.src, location.href).origin;
  const sel = 'a[href^="tel:" i],[data-ringout-number]';
  let pending = null;
  const frame = () => me.dataset.ringoutFrame
    ? document.querySelector(me.dataset.ringoutFrame)
    : [...document.querySelectorAll('iframe[src]')].find((f) => new URL(f.src, location.href).origin === origin);
  function call(el, number) {
    const w = frame()?.contentWindow;
    if (!w) return false;
    pending?.removeAttribute('data-ringout-state');
    pending = el;
    el.dataset.ringoutState = 'calling';
    w.postMessage({ type: 'ringout:call', to: number.trim() }, origin);
    return true;
  }
  function enhance(el) {
    if (el.ringout) return;
    el.ringout = true;
    if (el.matches('a')) {
      el.title ||= 'Call with RingOut';
      el.addEventListener('click', (e) => { if (call(el, el.getAttribute('href'))) e.preventDefault(); });
      return;
    }
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'ringout-call';
    b.title = 'Call with RingOut';
    b.append(...el.childNodes);
    el.append(b);
    b.addEventListener('click', () => call(b, el.dataset.ringoutNumber || b.textContent));
  }
  const scan = (root) => {
    if (root.matches?.(sel)) enhance(root);
    root.querySelectorAll?.(sel).forEach(enhance);
  };
  scan(document);
  new MutationObserver((ms) => ms.forEach((m) => m.addedNodes.forEach(scan)))
    .observe(document.documentElement, { childList: true, subtree: true });
  addEventListener('message', (e) => {
    const d = e.data;
    if (e.origin !== origin || e.source !== frame()?.contentWindow || !pending) return;
    if (d?.type !== 'ringout:placed' && d?.type !== 'ringout:error') return;
    pending.dataset.ringoutState = d.type.slice(8);
    if (d.message) pending.title = d.message;
    pending = null;
  });
})();
