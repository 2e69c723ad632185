/*
 * Apoteket Exempel — the shop's own scripts: a cookie banner shaped like OneTrust's first layer,
 * and the add-to-cart message. Not vendor code.
 *
 * Banner decision, as OneTrust stores it:
 *   cookie OptanonAlertBoxClosed = ISO timestamp of the decision (present = decided)
 *   cookie OptanonConsent        = ...&groups=C0001:1,C0002:x,C0003:x,C0004:x (URL-encoded),
 *                                  x = 1 after "Acceptera alla cookies", 0 after "Avvisa alla"
 *   window.OnetrustActiveGroups  = ",C0001,C0002,C0003,C0004," or ",C0001,"
 *   window.demoConsent           = "accepted" | "rejected" | "none"
 * pixels.js reads the cookies; the decision carries over to every page of the site.
 */
(function () {
  'use strict';

  var YEAR = 365 * 24 * 3600;
  var ALL = ['C0001', 'C0002', 'C0003', 'C0004'];

  function readCookie(name) {
    var parts = document.cookie ? document.cookie.split('; ') : [];
    for (var i = 0; i < parts.length; i++) {
      var eq = parts[i].indexOf('=');
      if (parts[i].slice(0, eq) === name) return parts[i].slice(eq + 1);
    }
    return null;
  }

  function writeCookie(name, value) {
    document.cookie = name + '=' + value + '; path=/; max-age=' + YEAR + '; SameSite=Lax';
  }

  function applyState(state) {
    window.demoConsent = state;
    window.OnetrustActiveGroups = state === 'accepted' ? ',' + ALL.join(',') + ',' : ',C0001,';
    window.OptanonActiveGroups = window.OnetrustActiveGroups;
  }

  function storedState() {
    if (readCookie('OptanonAlertBoxClosed') === null) return 'none';
    var consent = '';
    try {
      consent = decodeURIComponent(readCookie('OptanonConsent') || '');
    } catch (err) {
      consent = '';
    }
    return /(^|[&,=])C0004:1(,|&|$)/.test(consent) ? 'accepted' : 'rejected';
  }

  function hideBanner() {
    var sdk = document.getElementById('onetrust-consent-sdk');
    var banner = document.getElementById('onetrust-banner-sdk');
    if (banner) {
      banner.style.display = 'none';
      banner.setAttribute('aria-hidden', 'true');
    }
    if (sdk) sdk.hidden = true;
  }

  function decide(accepted) {
    var now = new Date().toISOString();
    var groups = ALL.map(function (id) {
      return id + ':' + (id === 'C0001' || accepted ? '1' : '0');
    }).join(',');
    writeCookie('OptanonAlertBoxClosed', now);
    writeCookie('OptanonConsent', 'isGpcEnabled=0&datestamp=' + encodeURIComponent(now) +
      '&version=demo&landingPath=NotLandingPage&groups=' + encodeURIComponent(groups));
    applyState(accepted ? 'accepted' : 'rejected');
    hideBanner();
    // OneTrust announces changes with an event; this banner does the same under its own name.
    window.dispatchEvent(new CustomEvent('demo-consent', { detail: window.demoConsent }));
  }

  var state = storedState();
  applyState(state);
  if (state !== 'none') hideBanner();

  var accept = document.getElementById('onetrust-accept-btn-handler');
  var reject = document.getElementById('onetrust-reject-all-handler');
  if (accept) accept.addEventListener('click', function () { decide(true); });
  if (reject) reject.addEventListener('click', function () { decide(false); });

  // Add to cart: a message only (the cart is not kept anywhere).
  var cartButton = document.getElementById('lagg-i-varukorg');
  var cartStatus = document.getElementById('varukorg-status');
  if (cartButton && cartStatus) {
    cartButton.addEventListener('click', function () {
      cartStatus.textContent = 'Tillagd i varukorgen.';
    });
  }

  // The offline service worker (sw.js): once it controls a page, that page's requests leave
  // from the worker. The outcome is reported to the shop itself (a first-party request), so
  // the probe's tests can see whether the worker was let in.
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/sw.js').then(function () {
      new Image().src = '/sw-state.gif?registered';
    }, function () {
      new Image().src = '/sw-state.gif?refused';
    });
  }
})();
