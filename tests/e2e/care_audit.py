"""The 适老化 checks a browser can measure on one page (issue 21, point 5), as one script.

Run in the page: every visible text at least `min_font` px with a line height at least 1.3 times
it, every main touch target at least `min_target` px both ways (inline links in running text are
exempt, as WCAG 2.5.8 has it) whose label leaves no character alone on a line (a button squeezed
by its neighbours stacked 标准版 one character a line), text contrast at least 4.5:1 against the
background it sits on, and nothing wider than the viewport."""

AUDIT_JS = r"""
([minFont, minTarget]) => {
  const out = [];
  const seen = new Set();
  const label = (el) => {
    let s = el.tagName.toLowerCase();
    if (el.id) s += '#' + el.id;
    if (el.classList.length) s += '.' + [...el.classList].join('.');
    const text = (el.innerText || el.value || el.getAttribute('aria-label') || '').trim();
    return s + ' "' + text.slice(0, 24).replace(/\s+/g, ' ') + '"';
  };
  const add = (kind, el, detail) => {
    const key = kind + label(el);
    if (!seen.has(key)) { seen.add(key); out.push(kind + ': ' + label(el) + ' ' + detail); }
  };
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) return false;
    for (let e = el; e; e = e.parentElement) {
      const cs = getComputedStyle(e);
      if (cs.display === 'none' || cs.visibility === 'hidden' || cs.opacity === '0') return false;
      if (e.classList && e.classList.contains('visually-hidden')) return false;
    }
    return true;
  };
  const rgba = (value) => {
    const m = value.match(/rgba?\(([^)]+)\)/);
    if (!m) return [0, 0, 0, 0];
    const p = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const lum = ([r, g, b]) => {
    const c = [r, g, b].map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  const background = (el) => {
    let colour = [255, 255, 255];
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const bg = rgba(getComputedStyle(e).backgroundColor);
      if (bg[3] > 0) { layers.push(bg); if (bg[3] >= 1) break; }
    }
    for (let i = layers.length - 1; i >= 0; i--) {
      const [r, g, b, a] = layers[i];
      colour = [0, 1, 2].map((i) => [r, g, b][i] * a + colour[i] * (1 - a));
    }
    return colour;
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.textContent.trim()) continue;
    const el = node.parentElement;
    if (!el || el.closest('svg, script, style, noscript, template, [hidden], .qr-box')) continue;
    if (!visible(el)) continue;
    const cs = getComputedStyle(el);
    const size = parseFloat(cs.fontSize);
    if (size < minFont - 0.01) add('font', el, size.toFixed(1) + 'px');
    const lh = cs.lineHeight === 'normal' ? size * 1.2 : parseFloat(cs.lineHeight);
    if (lh < size * 1.3 - 0.01) add('line-height', el, (lh / size).toFixed(2));
    const fg = rgba(cs.color);
    const bg = background(el);
    const fgc = [0, 1, 2].map((i) => fg[i] * fg[3] + bg[i] * (1 - fg[3]));
    const [a, b] = [lum(fgc), lum(bg)].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    if (ratio < 4.5) add('contrast', el, ratio.toFixed(2));
  }
  const targets = 'button, .button, input[type=submit], select, .tab, .entry, .row-link, ' +
    '.chip, .back, .care-btn, a.more, .check, .choice, .slot, .day, summary, ' +
    'input:not([type=hidden]):not([type=checkbox]):not([type=radio]):not([type=file])';
  // 修改, 删除, 登录, 重新获取 and the like are targets wherever they sit; so is a link that is
  // the whole of its line (not a word inside running text).
  const named = /^(修改|删除|登录|重新获取|重新发送|重拍这张|撤回|取消|返回)$/;
  const standalone = [...document.querySelectorAll('a, button')].filter((el) =>
    named.test((el.innerText || '').trim()) ||
    (el.parentElement && el.parentElement.innerText.trim() === (el.innerText || '').trim()));
  for (const el of new Set([...document.querySelectorAll(targets), ...standalone])) {
    if (!visible(el) || el.closest('[hidden], .app-viewer, .sms')) continue;
    const r = el.getBoundingClientRect();
    if (r.width < minTarget - 0.5 || r.height < minTarget - 0.5) {
      add('target', el, Math.round(r.width) + 'x' + Math.round(r.height));
    }
    // A label on several lines, one of which holds a single character: 标准版 squeezed by its
    // neighbours to one character a line, or 非常不满/意.
    const text = (el.innerText || '').trim();
    const lines = new Map();
    const words = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let t = words.nextNode(); t; t = words.nextNode()) {
      const range = document.createRange();
      range.selectNodeContents(t);
      const em = parseFloat(getComputedStyle(t.parentElement).fontSize);
      for (const box of range.getClientRects()) {
        if (box.width < 2 || box.height === 0) continue;
        const key = Math.round(box.top / 4);
        const line = lines.get(key) || { width: 0, em };
        line.width += box.width;
        lines.set(key, line);
      }
    }
    const lone = [...lines.values()].filter((line) => line.width < line.em * 1.5);
    if (text.length <= 8 && lines.size > 1 && lone.length) {
      add('wraps', el, lines.size + ' lines, one a lone character');
    }
  }
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth) {
    const wide = [...document.querySelectorAll('body *')].filter((e) => visible(e) &&
      e.getBoundingClientRect().right > root.clientWidth + 1).slice(-3);
    const by = root.scrollWidth - root.clientWidth;
    out.push('sideways: ' + by + 'px ' + wide.map(label).join(' | '));
  }
  return out;
}
"""


def audit(page, care: bool) -> list[str]:
    """The breaches on the page now: care mode 18 px text and 60 px targets, else 44 px targets."""
    return page.evaluate(AUDIT_JS, [18 if care else 12, 60 if care else 44])
