// mamoru: a sign-in waiting for the owner's approval continues by itself.
// The form [data-approval-wait] listens to the server-sent events at its
// data-events URL; on "decided" it submits itself (POST /signin/approval),
// which signs in (approved) or says the attempt was denied. Without
// JavaScript, or if the stream fails, the form's button does the same.
(function () {
  'use strict';
  const form = document.querySelector('form[data-approval-wait]');
  if (!form || !window.EventSource) return;
  const status = form.querySelector('[data-approval-status]');
  const button = form.querySelector('button[type=submit]');
  if (button) button.hidden = true;
  if (status) status.textContent = '';
  let done = false;
  const source = new EventSource(form.dataset.events);
  const finish = () => {
    if (done) return;
    done = true;
    source.close();
    form.submit();
  };
  source.addEventListener('decided', finish);
  source.addEventListener('timeout', finish);
  source.onerror = () => {
    // A closed stream (a proxy, a restart): fall back to the button.
    if (source.readyState === EventSource.CLOSED && button) button.hidden = false;
  };
})();
