// pixelwarden probe: helpers evaluated in each page the probe visits. They only read the page
// and act like a person would (type, click, submit); every decision (which identity an input
// asks for, which button rejects) is taken by pixelwarden from its rule packs.
(() => {
  if (window.__pw) return;
  const visible = (el) => {
    if (!el || !el.isConnected) return false;
    const s = getComputedStyle(el);
    if (s.display === 'none' || s.visibility === 'hidden' || Number(s.opacity) === 0) return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };
  const textOf = (el) => (el.innerText || el.value || el.getAttribute('aria-label') || el.title || '').trim();
  const labelOf = (el) => {
    const parts = [];
    if (el.labels) for (const l of el.labels) parts.push(l.innerText);
    const by = el.getAttribute('aria-labelledby');
    if (by) for (const id of by.split(/\s+/)) { const l = document.getElementById(id); if (l) parts.push(l.innerText); }
    const al = el.getAttribute('aria-label');
    if (al) parts.push(al);
    return parts.join(' ').trim();
  };
  const inputs = () => Array.from(document.querySelectorAll('input, textarea, select')).filter((el) => {
    const t = (el.type || '').toLowerCase();
    return !['hidden', 'submit', 'button', 'image', 'reset', 'file', 'checkbox', 'radio', 'password', 'range', 'color'].includes(t)
      && !el.disabled && !el.readOnly && visible(el);
  });
  // A native setter, so frameworks that watch the value property see the change.
  const setValue = (el, value) => {
    const proto = el instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype
      : el instanceof HTMLSelectElement ? HTMLSelectElement.prototype : HTMLInputElement.prototype;
    const setter = Object.getOwnPropertyDescriptor(proto, 'value').set;
    setter.call(el, value);
  };
  const banners = /cookie|kakor|informasjonskaps|evästee|consent|samtycke|samtykke|einwillig|privacy|integritet|personvern|tietosuoja|datenschutz|gdpr/i;
  const looksLikeBanner = (el) => {
    for (let n = el, depth = 0; n && depth < 8; n = n.parentElement, depth++) {
      const t = (n.id || '') + ' ' + (typeof n.className === 'string' ? n.className : '') + ' ' + (n.getAttribute && (n.getAttribute('aria-label') || '') || '');
      if (banners.test(t)) return true;
      if (depth >= 2 && n.innerText && n.innerText.length < 4000 && banners.test(n.innerText)) return true;
    }
    return false;
  };
  const norm = (t) => t.replace(/’/g, "'").toLowerCase().split(/\s+/).filter(Boolean).join(' ')
    .replace(/^[^\p{L}\p{N}')]+|[^\p{L}\p{N}')]+$/gu, '');
  const query = (root, sel) => { try { return root.querySelector(sel); } catch (e) { return null; } };
  const rootsOf = (p) => {
    const roots = [document];
    if (p.shadow_host) { const h = query(document, p.shadow_host); if (h && h.shadowRoot) roots.unshift(h.shadowRoot); }
    if (p.frames) for (const f of document.querySelectorAll('iframe')) { try { if (f.contentDocument) roots.push(f.contentDocument); } catch (e) {} }
    return roots;
  };
  const clickFirst = (roots, sels) => {
    for (const sel of sels || []) for (const r of roots) {
      const el = query(r, sel);
      if (el && visible(el)) { el.click(); return sel; }
    }
    return null;
  };
  const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

  window.__pw = {
    // Every fillable input with what names it: pixelwarden decides what it asks for.
    inputs() {
      return inputs().map((el, i) => ({
        i, tag: el.tagName.toLowerCase(), type: (el.type || '').toLowerCase(), name: el.name || '', id: el.id || '',
        placeholder: el.placeholder || '', label: labelOf(el), autocomplete: el.getAttribute('autocomplete') || '',
        form: el.form ? Array.from(document.forms).indexOf(el.form) : -1,
      }));
    },
    // Type like a person: focus, value, input and change, blur (what automatic advanced
    // matching listens to).
    fill(items) {
      const els = inputs();
      let n = 0;
      for (const { i, value } of items) {
        const el = els[i];
        if (!el) continue;
        el.focus();
        el.dispatchEvent(new KeyboardEvent('keydown', { bubbles: true, key: 'a' }));
        if (el instanceof HTMLSelectElement) {
          const opt = Array.from(el.options).find((o) => o.value === value || o.text === value);
          if (!opt) continue;
          setValue(el, opt.value);
        } else setValue(el, value);
        el.dispatchEvent(new Event('input', { bubbles: true }));
        el.dispatchEvent(new KeyboardEvent('keyup', { bubbles: true, key: 'a' }));
        el.dispatchEvent(new Event('change', { bubbles: true }));
        el.blur();
        el.dispatchEvent(new FocusEvent('focusout', { bubbles: true }));
        n++;
      }
      return n;
    },
    // Submit the forms that were filled, through their submit buttons (so the site's handlers
    // run), else requestSubmit().
    submit(formIndexes) {
      let n = 0;
      for (const fi of formIndexes) {
        const form = document.forms[fi];
        if (!form) continue;
        const btn = form.querySelector('button[type=submit], input[type=submit], button:not([type])');
        if (btn && visible(btn)) btn.click(); else if (form.requestSubmit) form.requestSubmit(); else form.submit();
        n++;
      }
      return n;
    },
    links() {
      return Array.from(document.querySelectorAll('a[href]')).map((a) => a.href).filter((h) => /^https?:/i.test(h));
    },
    // The consent banner: a recognised platform's buttons first, then button texts inside
    // something that reads like a cookie banner. `mode` is accept or reject.
    async banner(cfg, mode) {
      for (const p of cfg.platforms) {
        const shown = p.detect.some((sel) => { const el = query(document, sel); return el && (visible(el) || p.shadow_host); });
        if (!shown) continue;
        const roots = rootsOf(p);
        const first = clickFirst(roots, mode === 'accept' ? p.accept : p.reject);
        if (first) return { platform: p.id, action: mode, via: first };
        if (mode === 'reject' && p.reject_via_settings && p.reject_via_settings.length) {
          let done = true;
          for (const step of p.reject_via_settings) {
            let clicked = null;
            for (let t = 0; t < 10 && !clicked; t++) { clicked = clickFirst(rootsOf(p), step); if (!clicked) await sleep(200); }
            if (!clicked) { done = false; break; }
            await sleep(300);
          }
          if (done) return { platform: p.id, action: mode, via: 'settings' };
        }
        const js = mode === 'accept' ? p.js_accept : p.js_reject;
        if (js) { try { await Promise.resolve(eval(js)); return { platform: p.id, action: mode, via: 'js' }; } catch (e) {} }
        return { platform: p.id, action: null, via: null, seen: true };
      }
      const wanted = mode === 'accept' ? [cfg.texts.accept, cfg.texts.weak_accept] : [cfg.texts.reject, cfg.texts.weak_reject];
      const buttons = Array.from(document.querySelectorAll('button, a[role=button], [role=button], input[type=button], input[type=submit], a'));
      let seen = false;
      for (const el of buttons) {
        if (!visible(el)) continue;
        const t = norm(textOf(el));
        if (!t) continue;
        const inBanner = looksLikeBanner(el);
        seen = seen || (inBanner && (cfg.texts.accept.includes(t) || cfg.texts.reject.includes(t)));
        if (wanted[0].includes(t) || (inBanner && wanted[1].includes(t))) {
          el.click();
          return { platform: 'generic', action: mode, via: t };
        }
      }
      return { platform: seen ? 'generic' : null, action: null, via: null, seen };
    },
    // Whether a consent banner is showing (a platform's, or buttons that read like one).
    bannerShown(cfg) {
      for (const p of cfg.platforms) {
        if (p.detect.some((sel) => { const el = query(document, sel); return el && visible(el); })) return p.id;
      }
      for (const el of document.querySelectorAll('button, [role=button], a')) {
        if (!visible(el)) continue;
        const t = norm(textOf(el));
        if ((cfg.texts.accept.includes(t) || cfg.texts.reject.includes(t)) && looksLikeBanner(el)) return 'generic';
      }
      return null;
    },
    click(sel) { const el = query(document, sel); if (!el) return false; el.scrollIntoView({ block: 'center' }); el.click(); return true; },
    exists(sel) { const el = query(document, sel); return !!el && visible(el); },
    fillSelector(sel, value) {
      const el = query(document, sel);
      if (!el) return false;
      el.focus();
      if (el instanceof HTMLSelectElement) {
        const opt = Array.from(el.options).find((o) => o.value === value || o.text === value);
        if (!opt) return false;
        setValue(el, opt.value);
      } else setValue(el, value);
      el.dispatchEvent(new Event('input', { bubbles: true }));
      el.dispatchEvent(new Event('change', { bubbles: true }));
      el.blur();
      el.dispatchEvent(new FocusEvent('focusout', { bubbles: true }));
      return true;
    },
    submitSelector(sel) {
      const el = query(document, sel);
      if (!el) return false;
      if (el instanceof HTMLFormElement) {
        const btn = el.querySelector('button[type=submit], input[type=submit], button:not([type])');
        if (btn) btn.click(); else el.requestSubmit();
      } else el.click();
      return true;
    },
  };
})();
