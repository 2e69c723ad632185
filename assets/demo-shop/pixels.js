/*
 * Apoteket Exempel — imitation tracking pixels for the pixelwarden probe demo.
 *
 * Nothing here is vendor code. Each block imitates, on the wire, one behaviour of a real pixel:
 *   1. Meta Pixel: PageView/ViewContent/AddToCart image hits that ignore the cookie banner, and
 *      "automatic advanced matching" (hashing what the visitor types into forms, udff[..]).
 *   2. TikTok Pixel: a JSON event with the visitor's plain e-mail on form submit, only after
 *      consent was accepted.
 *   3. GA4 with consent mode: page_view beacons that carry gcs=G100 (denied) or G111 (granted),
 *      and a purchase beacon on checkout that carries the plain phone number in a custom
 *      parameter (ep.telefon), whatever the consent state.
 *   4. Snap Pixel inside an iframe: an XHR form POST with the parent page URL.
 * The page itself contains no personal data: every value sent comes from what is typed.
 *
 * Under Node (module.exports) only the hashing and normalisation helpers are exported, so they
 * can be tested without a browser.
 */
(function (root) {
  'use strict';

  // ---------------------------------------------------------------------------------------------
  // SHA-256, used when SubtleCrypto is missing (crypto.subtle exists only in secure contexts:
  // https, http://localhost and http://127.0.0.1). Real pixels ship their own JS hash as well.
  var K = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
  ];

  // UTF-8 bytes of a string (handles surrogate pairs; lone surrogates become U+FFFD).
  function utf8Bytes(str) {
    var out = [];
    for (var i = 0; i < str.length; i++) {
      var c = str.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < str.length) {
        var d = str.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
        } else {
          c = 0xfffd;
        }
      } else if (c >= 0xd800 && c <= 0xdfff) {
        c = 0xfffd;
      }
      if (c < 0x80) {
        out.push(c);
      } else if (c < 0x800) {
        out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
      } else if (c < 0x10000) {
        out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
      } else {
        out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
      }
    }
    return out;
  }

  function rotr(x, n) {
    return (x >>> n) | (x << (32 - n));
  }

  function hex32(x) {
    return ('00000000' + (x >>> 0).toString(16)).slice(-8);
  }

  // Synchronous SHA-256 of the UTF-8 encoding of `str`, as 64 lower-case hex digits.
  function sha256HexSync(str) {
    var bytes = utf8Bytes(String(str));
    var bitLength = bytes.length * 8;
    bytes.push(0x80);
    while (bytes.length % 64 !== 56) bytes.push(0);
    var hi = Math.floor(bitLength / 0x100000000);
    var lo = bitLength >>> 0;
    bytes.push((hi >>> 24) & 255, (hi >>> 16) & 255, (hi >>> 8) & 255, hi & 255);
    bytes.push((lo >>> 24) & 255, (lo >>> 16) & 255, (lo >>> 8) & 255, lo & 255);

    var h = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
    var w = new Array(64);
    for (var off = 0; off < bytes.length; off += 64) {
      for (var t = 0; t < 16; t++) {
        var j = off + t * 4;
        w[t] = (bytes[j] << 24) | (bytes[j + 1] << 16) | (bytes[j + 2] << 8) | bytes[j + 3];
      }
      for (t = 16; t < 64; t++) {
        var s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >>> 3);
        var s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >>> 10);
        w[t] = (w[t - 16] + s0 + w[t - 7] + s1) | 0;
      }
      var a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
      for (t = 0; t < 64; t++) {
        var t1 = (k + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[t] + w[t]) | 0;
        var t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
        k = g; g = f; f = e; e = (d + t1) | 0;
        d = c; c = b; b = a; a = (t1 + t2) | 0;
      }
      h[0] = (h[0] + a) | 0; h[1] = (h[1] + b) | 0; h[2] = (h[2] + c) | 0; h[3] = (h[3] + d) | 0;
      h[4] = (h[4] + e) | 0; h[5] = (h[5] + f) | 0; h[6] = (h[6] + g) | 0; h[7] = (h[7] + k) | 0;
    }
    return h.map(hex32).join('');
  }

  // SHA-256 via SubtleCrypto when the page is a secure context, else the function above.
  function sha256Hex(str) {
    var subtle = root.crypto && root.crypto.subtle;
    if (subtle && root.isSecureContext !== false && typeof root.TextEncoder === 'function') {
      return subtle.digest('SHA-256', new root.TextEncoder().encode(String(str))).then(function (buf) {
        var view = new Uint8Array(buf);
        var out = '';
        for (var i = 0; i < view.length; i++) out += ('0' + view[i].toString(16)).slice(-2);
        return out;
      }, function () {
        return sha256HexSync(str);
      });
    }
    return Promise.resolve(sha256HexSync(str));
  }

  // ---------------------------------------------------------------------------------------------
  // Normalisation before hashing, in the spirit of Meta's advanced matching rules:
  // e-mail and names trimmed and lower-cased; phone digits only with the country code
  // (a Swedish national number's leading 0 becomes 46; an international 00 prefix is dropped).
  function normaliseText(value) {
    return String(value).trim().toLowerCase();
  }

  function normalisePhone(value) {
    var digits = String(value).replace(/\D+/g, '');
    if (digits.slice(0, 2) === '00') return digits.slice(2);
    if (digits.charAt(0) === '0') return '46' + digits.slice(1);
    return digits;
  }

  var helpers = {
    sha256HexSync: sha256HexSync,
    sha256Hex: sha256Hex,
    normaliseText: normaliseText,
    normalisePhone: normalisePhone
  };
  if (typeof module === 'object' && module && module.exports) module.exports = helpers;
  if (typeof document === 'undefined' || typeof root.location === 'undefined') return;
  root.demoPixels = helpers; // for tests that evaluate in the page

  // ---------------------------------------------------------------------------------------------
  // Shared page helpers.
  var enc = encodeURIComponent;
  var framed = root.self !== root.top;
  var body = document.body || document.documentElement;
  var page = body.getAttribute('data-sida') || '';
  var keep = []; // image objects kept alive until they settle

  function readCookie(name) {
    var parts = document.cookie ? document.cookie.split('; ') : [];
    for (var i = 0; i < parts.length; i++) {
      var eq = parts[i].indexOf('=');
      if (parts[i].slice(0, eq) === name) return parts[i].slice(eq + 1);
    }
    return null;
  }

  // The site's OneTrust-like banner (site.js) writes OptanonAlertBoxClosed (a timestamp) and
  // OptanonConsent (groups=C0001:1,...,C0004:x). Targeting group C0004 on means "accepted".
  function consentState() {
    if (readCookie('OptanonAlertBoxClosed') === null) return 'none';
    var consent = decodeURIComponent(readCookie('OptanonConsent') || '');
    return /(^|[&,=])C0004:1(,|&|$)/.test(consent) ? 'accepted' : 'rejected';
  }

  // An image GET that resolves when it loaded or failed (never rejects).
  function sendImage(url) {
    return new Promise(function (resolve) {
      var img = new Image(1, 1);
      img.onload = img.onerror = function () {
        keep.splice(keep.indexOf(img), 1);
        resolve();
      };
      keep.push(img);
      img.src = url;
    });
  }

  function sendBeacon(url) {
    if (root.navigator && typeof root.navigator.sendBeacon === 'function') {
      root.navigator.sendBeacon(url, '');
      return Promise.resolve();
    }
    return fetch(url, { method: 'POST', keepalive: true, body: '' }).then(noop, noop);
  }

  function noop() {}

  function delay(ms) {
    return new Promise(function (resolve) { setTimeout(resolve, ms); });
  }

  // ---------------------------------------------------------------------------------------------
  // 4. Snap Pixel in an iframe (iframe.html on the product page): Snap's legacy endpoint takes
  //    form-encoded parameters; pl is the page URL, here the parent page's, e_desc a description.
  //    Fires whatever the consent state: the iframe never looks at the banner.
  if (framed) {
    var parentUrl;
    try {
      parentUrl = root.parent.location.href;
    } catch (err) {
      parentUrl = document.referrer;
    }
    var xhr = new XMLHttpRequest();
    xhr.open('POST', 'https://tr.snapchat.com/p', true);
    xhr.setRequestHeader('Content-Type', 'application/x-www-form-urlencoded');
    xhr.send('pid=demo-snap&ev=VIEW_CONTENT&pl=' + enc(parentUrl) + '&e_desc=Klamydiatest');
    return; // the other pixels run in the top page only
  }

  // ---------------------------------------------------------------------------------------------
  // 1. Meta Pixel. Hits are image GETs to /tr/ with the pixel id, event name, page URL (dl),
  //    referrer (rl), event time (ts) and library version (v). It fires on load whatever the
  //    banner says: this pixel does not wait for consent.
  var META_ID = '111122223333';
  var lastTs = 0;

  function metaHit(eventName, extra) {
    var ts = Date.now();
    if (ts <= lastTs) ts = lastTs + 1; // distinct ts per hit, as distinct events have
    lastTs = ts;
    return sendImage('https://www.facebook.com/tr/?id=' + META_ID + '&ev=' + eventName +
      '&dl=' + enc(root.location.href) + '&rl=' + enc(document.referrer) +
      '&ts=' + ts + '&v=2.9.199' + (extra || ''));
  }

  var productName = body.getAttribute('data-produkt') || '';

  metaHit('PageView');
  if (page === 'produkt') {
    // Standard event with custom data: the product name goes out in cd[content_name].
    metaHit('ViewContent', '&cd[content_name]=' + enc(productName));
  }

  // AddToCart on the product page's button (data-meta-event="AddToCart").
  document.addEventListener('click', function (ev) {
    var button = ev.target && ev.target.closest ? ev.target.closest('[data-meta-event="AddToCart"]') : null;
    if (!button) return;
    metaHit('AddToCart', '&cd[content_name]=' + enc(productName) +
      '&cd[value]=' + enc(body.getAttribute('data-pris') || '') + '&cd[currency]=SEK');
  });

  // Automatic advanced matching: the pixel watches form inputs it recognises (e-mail and phone
  // by input type, first/last name by field name), normalises and hashes their values and sends
  // them with the next hit as udff[em], udff[ph], udff[fn], udff[ln], marked es=automatic.
  // Every hit carries all fields captured so far on this page.
  var AAM_ORDER = ['em', 'ph', 'fn', 'ln'];
  var aamHashes = {};  // key -> hash
  var aamPlain = {};   // key -> normalised value already hashed (to skip repeats)

  function aamKey(input) {
    if (!input || input.tagName !== 'INPUT') return null;
    var type = (input.getAttribute('type') || 'text').toLowerCase();
    var name = (input.getAttribute('name') || '').toLowerCase();
    if (type === 'email') return 'em';
    if (type === 'tel') return 'ph';
    if (name.indexOf('efternamn') !== -1) return 'ln';
    if (name.indexOf('fornamn') !== -1) return 'fn';
    return null;
  }

  function aamSend() {
    var extra = '&es=automatic';
    AAM_ORDER.forEach(function (key) {
      if (aamHashes[key]) extra += '&udff[' + key + ']=' + aamHashes[key];
    });
    return metaHit('PageView', extra);
  }

  // Hash one input's value if new; resolves to true when something new was captured.
  function aamCapture(input) {
    var key = aamKey(input);
    if (!key) return Promise.resolve(false);
    var value = key === 'ph' ? normalisePhone(input.value) : normaliseText(input.value);
    if (!value || aamPlain[key] === value) return Promise.resolve(false);
    aamPlain[key] = value;
    return sha256Hex(value).then(function (hash) {
      if (aamPlain[key] !== value) return false; // a newer value overtook this one
      aamHashes[key] = hash;
      return true;
    });
  }

  function onFieldDone(ev) {
    aamCapture(ev.target).then(function (changed) {
      if (changed) aamSend();
    });
  }

  document.addEventListener('change', onFieldDone, true);
  document.addEventListener('blur', onFieldDone, true);

  // ---------------------------------------------------------------------------------------------
  // 3. GA4 with consent mode. Beacons to /g/collect carry the measurement id (tid), event name
  //    (en), page URL and title (dl, dt) and gcs: G1 + ad_storage + analytics_storage, 1 granted,
  //    0 denied. Denied (no decision or "Avvisa alla") still sends cookieless pings.
  var GA_ID = 'G-DEMO1234';

  function gaHit(eventName, extra) {
    var gcs = consentState() === 'accepted' ? 'G111' : 'G100';
    return sendBeacon('https://region1.google-analytics.com/g/collect?v=2&tid=' + GA_ID +
      '&en=' + eventName + '&dl=' + enc(root.location.href) + '&dt=' + enc(document.title) +
      '&gcs=' + gcs + (extra || ''));
  }

  gaHit('page_view');

  // ---------------------------------------------------------------------------------------------
  // 2. TikTok Pixel: events are POSTed as text/plain JSON; context.user.email carries the e-mail.
  //    This one respects the banner: nothing is sent unless consent was accepted.
  function tiktokEvent(form, eventName) {
    if (consentState() !== 'accepted') return Promise.resolve();
    var emailInput = form.querySelector('input[type="email"]');
    var email = emailInput ? emailInput.value.trim() : '';
    return fetch('https://analytics.tiktok.com/api/v2/pixel', {
      method: 'POST',
      keepalive: true,
      headers: { 'Content-Type': 'text/plain;charset=UTF-8' },
      body: JSON.stringify({
        event: eventName,
        context: { pixel: { code: 'CDEMO123' }, page: { url: root.location.href }, user: { email: email } },
        properties: {}
      })
    }).then(noop, noop);
  }

  // ---------------------------------------------------------------------------------------------
  // Form submit: capture any recognised field not yet hashed (Meta), send the TikTok event
  // (konto: CompleteRegistration, kassa: CompletePayment) and, on the checkout page, the GA4
  // purchase beacon with the plain phone number. Like tag managers do, the navigation waits
  // until the hits have left (at most 600 ms), then the form is submitted.
  document.addEventListener('submit', function (ev) {
    var form = ev.target;
    if (!form || form.tagName !== 'FORM') return;
    ev.preventDefault();
    var work = [];
    try {
      var inputs = form.querySelectorAll('input');
      var captures = [];
      for (var i = 0; i < inputs.length; i++) captures.push(aamCapture(inputs[i]));
      work.push(Promise.all(captures).then(function (changed) {
        if (changed.indexOf(true) !== -1) return aamSend();
      }));
      work.push(tiktokEvent(form, form.getAttribute('data-tiktok-event') || 'CompleteRegistration'));
      if (page === 'kassa') {
        var phoneInput = form.querySelector('input[type="tel"]');
        var phone = phoneInput ? phoneInput.value.trim() : '';
        work.push(gaHit('purchase', '&ep.telefon=' + enc(phone)));
      }
    } catch (err) {
      // a broken pixel must not break the shop
    }
    Promise.race([Promise.all(work), delay(600)]).then(function () {
      HTMLFormElement.prototype.submit.call(form);
    }, function () {
      HTMLFormElement.prototype.submit.call(form);
    });
  });
})(typeof globalThis !== 'undefined' ? globalThis : this);
