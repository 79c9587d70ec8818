// The SLA board refreshes itself: every few seconds it fetches its table
// again (GET /board?partial=1 with the same filters) and swaps it in, so a
// supervisor sees referrals move without reloading. Without this script the
// page still works; its link reloads it.
(function () {
  'use strict';
  var live = document.getElementById('board-live');
  if (!live || !window.fetch || !window.DOMParser) {
    return;
  }
  var every = (parseInt(live.getAttribute('data-every'), 10) || 10) * 1000;
  function refresh() {
    if (document.hidden) {
      return;
    }
    // A signed-out session answers with a redirect to sign in: keep the
    // last table and mark it stale instead of showing the sign-in page.
    fetch('/board?partial=1&' + live.getAttribute('data-filters'), { credentials: 'same-origin', redirect: 'error' })
      .then(function (r) {
        if (!r.ok) {
          throw new Error('board: ' + r.status);
        }
        return r.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, 'text/html').getElementById('board-live');
        if (fresh) {
          live.replaceWith(fresh);
          live = fresh;
        }
      })
      .catch(function () {
        live.classList.add('stale');
      });
  }
  setInterval(refresh, every);
})();
