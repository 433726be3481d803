/*
 * taskdeck admin: the only script of every page (loaded with `defer`, no build step, no framework).
 * (a) relative times, (b) confirmation of dangerous tasks, (c) copy buttons (link, curl, CLI), (d) the
 * live log of a run over a WebSocket, plus small helpers (the task filter, link confirmations, the
 * history's argument filters, loading the earlier lines of a long log).
 * The Content-Security-Policy forbids inline script and style: everything is wired up from here.
 */
(function () {
  'use strict';

  // ---------------------------------------------------------------------------------------------
  // (a) Relative times: <time class="relative" datetime="ISO"> shows "3 minutes ago", kept fresh.

  var MINUTE = 60, HOUR = 3600, DAY = 86400;

  function relativeText(date, now) {
    var seconds = Math.round((now - date.getTime()) / 1000);
    if (seconds < -60) return isoDate(date); // in the future beyond clock skew: show the date
    if (seconds < 5) return 'just now';
    if (seconds < MINUTE) return seconds + ' seconds ago';
    if (seconds < 2 * MINUTE) return '1 minute ago';
    if (seconds < HOUR) return Math.floor(seconds / MINUTE) + ' minutes ago';
    if (seconds < 2 * HOUR) return '1 hour ago';
    if (seconds < DAY) return Math.floor(seconds / HOUR) + ' hours ago';
    if (seconds < 2 * DAY) return 'yesterday';
    var days = Math.floor(seconds / DAY);
    if (days <= 31) return days + ' days ago';
    return isoDate(date);
  }

  function isoDate(date) {
    return date.getFullYear() + '-' + pad(date.getMonth() + 1) + '-' + pad(date.getDate());
  }

  function pad(n) {
    return n < 10 ? '0' + n : String(n);
  }

  function refreshTimes(root) {
    var now = Date.now();
    var times = (root || document).querySelectorAll('time.relative[datetime]');
    for (var i = 0; i < times.length; i++) {
      var date = new Date(times[i].getAttribute('datetime'));
      if (isNaN(date.getTime())) continue;
      var text = relativeText(date, now);
      if (times[i].textContent !== text) times[i].textContent = text;
    }
  }

  refreshTimes(document);
  setInterval(function () { refreshTimes(document); }, 10000);

  // ---------------------------------------------------------------------------------------------
  // (b) Dangerous tasks: a form holding an input[data-confirm-key] submits only once it holds the key.

  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    var input = form.querySelector('input[data-confirm-key]');
    if (!input) return;
    var key = input.getAttribute('data-confirm-key');
    if (input.value.trim() === key) return;
    event.preventDefault();
    var message = confirmMessage(form);
    if (message) {
      message.textContent = input.value.trim() === ''
        ? 'This task is dangerous: type "' + key + '" to confirm before running it.'
        : 'That is not the task key: type "' + key + '" exactly.';
      message.hidden = false;
    }
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  });

  document.addEventListener('input', function (event) {
    var input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.hasAttribute('data-confirm-key')) return;
    if (input.value.trim() !== input.getAttribute('data-confirm-key')) return;
    input.removeAttribute('aria-invalid');
    var message = input.form && confirmMessage(input.form);
    if (message) message.hidden = true;
  });

  // A browser sends every control, an empty one as `key=`. In a task form, an empty number, date-time or
  // "(none)" select can only mean "not given", so it is left out: the field's default applies and the
  // (shareable) URL stays short; text stays as typed, since an empty string can be meant. In a form marked
  // data-omit-empty (the history filters) every empty control is left out.
  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (event.defaultPrevented || !(form instanceof HTMLFormElement)) return;
    var omitAll = form.hasAttribute('data-omit-empty');
    if (!omitAll && !form.classList.contains('task-form')) return;
    for (var i = 0; i < form.elements.length; i++) {
      var el = form.elements[i];
      if (!(el instanceof HTMLInputElement || el instanceof HTMLSelectElement || el instanceof HTMLTextAreaElement)) continue;
      if (el.type === 'hidden' || el.type === 'checkbox' || (el instanceof HTMLSelectElement && el.multiple)) continue;
      var blank = el.value === '';
      var leaveOut = omitAll ? blank : blank && (el.type === 'number' || el.type === 'datetime-local' || el instanceof HTMLSelectElement);
      if (leaveOut && el.name && !el.disabled) {
        el.disabled = true;
        el.setAttribute('data-left-out', '');
      }
    }
  });

  // Back/forward cache: give the left-out controls back to the user.
  window.addEventListener('pageshow', function () {
    var left = document.querySelectorAll('[data-left-out]');
    for (var i = 0; i < left.length; i++) {
      left[i].disabled = false;
      left[i].removeAttribute('data-left-out');
    }
  });

  function confirmMessage(form) {
    return form.querySelector('[data-role="confirm-message"]');
  }

  // Links that change something (remove a task) ask first: <a data-confirm="question">.
  document.addEventListener('click', function (event) {
    var link = event.target instanceof Element ? event.target.closest('a[data-confirm]') : null;
    if (link && !window.confirm(link.getAttribute('data-confirm'))) event.preventDefault();
  });

  // ---------------------------------------------------------------------------------------------
  // (c) Copy buttons. data-copy holds a path with its query ("" = this page): the origin is added.
  // data-copy-text holds a command (curl, CLI) built and shell-quoted by the server: copied as it is.

  document.addEventListener('click', function (event) {
    var button = event.target instanceof Element ? event.target.closest('[data-copy], [data-copy-text]') : null;
    if (!button) return;
    event.preventDefault();
    var text;
    if (button.hasAttribute('data-copy-text')) {
      text = button.getAttribute('data-copy-text');
    } else {
      var value = button.getAttribute('data-copy') || location.pathname + location.search;
      text = /^https?:\/\//i.test(value) ? value : location.origin + value;
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { flash(button, 'Copied'); }, function () { copyFallback(button, text); });
    } else {
      copyFallback(button, text);
    }
  });

  function flash(button, text) {
    var label = button.querySelector('span:last-child') || button;
    var before = label.getAttribute('data-label') || label.textContent;
    label.setAttribute('data-label', before);
    label.textContent = text;
    setTimeout(function () { label.textContent = before; }, 1500);
  }

  // Without the clipboard API: show the text in a selected box, ready for Ctrl+C (a textarea when the
  // text has line breaks: an input would drop them).
  function copyFallback(button, text) {
    var multiline = text.indexOf('\n') !== -1;
    var anchor = button.closest('[data-role="copy-buttons"]') || button;
    var box = anchor.nextElementSibling;
    if (!box || !box.classList.contains('copy-fallback') || (box instanceof HTMLTextAreaElement) !== multiline) {
      if (box && box.classList.contains('copy-fallback')) box.remove();
      box = document.createElement(multiline ? 'textarea' : 'input');
      if (!multiline) box.type = 'text';
      box.readOnly = true;
      box.className = 'copy-fallback';
      box.setAttribute('aria-label', 'Text to copy');
      anchor.insertAdjacentElement('afterend', box);
    }
    box.value = text;
    box.focus();
    box.select();
    var copied = false;
    try { copied = document.execCommand('copy'); } catch (e) { copied = false; }
    flash(button, copied ? 'Copied' : 'Press Ctrl+C');
  }

  // A task form's copy buttons follow its values as they are edited. The same rules as formPairs() and
  // copyCommands() in core/http/view-builders.ts: a checkbox always (true/false), a list one pair per
  // line or choice, an empty number, date-time or select not at all, text as typed.
  function shellQuote(word) {
    return "'" + String(word).replace(/'/g, "'\\''") + "'";
  }

  function formCommands(form) {
    var pairs = [];
    var label = '';
    for (var i = 0; i < form.elements.length; i++) {
      var el = form.elements[i];
      if (!el.name || el.disabled || el.name === '_checkboxes' || el.name === 'presetKey' || el.name === 'presetTitle') continue;
      if (el.name === 'category') {
        label = el.value;
        continue;
      }
      if (el instanceof HTMLInputElement && el.type === 'checkbox') {
        pairs.push([el.name, el.checked ? 'true' : 'false']);
      } else if (el instanceof HTMLSelectElement && el.multiple) {
        for (var j = 0; j < el.options.length; j++) if (el.options[j].selected && el.options[j].value !== '') pairs.push([el.name, el.options[j].value]);
      } else if (el instanceof HTMLTextAreaElement) {
        el.value.split(/\r?\n/).forEach(function (line) { if (line !== '') pairs.push([el.name, line]); });
      } else if (el instanceof HTMLInputElement && el.type === 'text') {
        pairs.push([el.name, el.value]);
      } else if ((el instanceof HTMLInputElement && el.type !== 'submit' && el.type !== 'button') || el instanceof HTMLSelectElement) {
        if (el.value !== '') pairs.push([el.name, el.value]);
      }
    }
    if (label === 'ad-hoc') label = '';
    var key = form.getAttribute('data-task-key');
    var runPath = new URL(form.getAttribute('action'), location.href).pathname;
    var params = new URLSearchParams();
    pairs.forEach(function (p) { params.append(p[0], p[1]); });
    if (label) params.append('category', label);
    var link = runPath.replace(/\/run$/, '') + (params.toString() ? '?' + params.toString() : '');
    params.append('t', 'json');
    var words = pairs.map(function (p) { return shellQuote(p[0] + '=' + p[1]); });
    var labelWords = label ? ['--label', shellQuote(label)] : [];
    var needsEnd = pairs.some(function (p) { return p[0].charAt(0) === '-'; });
    var cli = ['npx', 'taskdeck', 'run', key].concat(needsEnd ? labelWords.concat(['--'], words) : words.concat(labelWords));
    return { link: link, curl: 'curl -s ' + shellQuote(location.origin + runPath + '?' + params.toString()), cli: cli.join(' ') };
  }

  function refreshFormCommands(form) {
    if (!form.getAttribute('data-task-key')) return;
    var commands = formCommands(form);
    var set = function (kind, attr, value) {
      var button = form.querySelector('[data-copy-kind="' + kind + '"]');
      if (button) button.setAttribute(attr, value);
    };
    set('link', 'data-copy', commands.link);
    set('curl', 'data-copy-text', commands.curl);
    set('cli', 'data-copy-text', commands.cli);
  }

  function onFormEdit(event) {
    var form = event.target instanceof Element ? event.target.closest('form.task-form') : null;
    if (form) refreshFormCommands(form);
  }
  document.addEventListener('input', onFormEdit);
  document.addEventListener('change', onFormEdit);
  window.addEventListener('pageshow', function (event) {
    // Back/forward cache: the browser restored edited values without input events.
    if (!event.persisted) return;
    var forms = document.querySelectorAll('form.task-form[data-task-key]');
    for (var i = 0; i < forms.length; i++) refreshFormCommands(forms[i]);
  });

  // ---------------------------------------------------------------------------------------------
  // History argument filters: the name/value pair (inputs without a name) becomes a hidden
  // arg.<name>=<value> input with a removable chip, on "Add argument filter" or when the form submits.

  function addArgFilter(form) {
    var nameInput = form.querySelector('[data-arg-name]');
    var valueInput = form.querySelector('[data-arg-value]');
    if (!nameInput || !valueInput) return true;
    var name = nameInput.value.trim();
    if (!name) {
      if (valueInput.value === '') return true;
      nameInput.focus();
      return false;
    }
    var fieldName = 'arg.' + name;
    var hidden = form.querySelectorAll('input[type="hidden"]');
    for (var i = 0; i < hidden.length; i++) {
      // One filter per argument: a new value replaces the old one (its chip goes with it).
      if (hidden[i].name === fieldName) {
        var old = hidden[i].closest('li');
        if (old) old.remove(); else hidden[i].remove();
      }
    }
    var list = form.querySelector('ul.arg-chips');
    if (!list) {
      list = document.createElement('ul');
      list.className = 'tags arg-chips';
      list.setAttribute('aria-label', 'Argument filters');
      var fieldset = form.querySelector('[data-role="arg-filters"]');
      var legend = fieldset.querySelector('legend');
      legend.insertAdjacentElement('afterend', list);
    }
    var item = document.createElement('li');
    item.className = 'arg-chip';
    var input = document.createElement('input');
    input.type = 'hidden';
    input.name = fieldName;
    input.value = valueInput.value;
    var chip = document.createElement('span');
    chip.className = 'tag';
    var code = document.createElement('code');
    code.textContent = name;
    chip.appendChild(code);
    chip.appendChild(document.createTextNode(' = ' + valueInput.value));
    var remove = document.createElement('button');
    remove.type = 'button';
    remove.className = 'chip-remove';
    remove.setAttribute('data-action', 'remove-arg-filter');
    remove.setAttribute('aria-label', 'Remove the filter on ' + name);
    var icon = form.querySelector('template[data-role="arg-chip-icon"]');
    if (icon) remove.appendChild(icon.content.cloneNode(true));
    else remove.textContent = '×';
    chip.appendChild(remove);
    item.appendChild(input);
    item.appendChild(chip);
    list.appendChild(item);
    nameInput.value = '';
    valueInput.value = '';
    return true;
  }

  document.addEventListener('click', function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    var add = target.closest('[data-action="add-arg-filter"]');
    if (add && add.form) {
      addArgFilter(add.form);
      return;
    }
    var remove = target.closest('[data-action="remove-arg-filter"]');
    if (remove) {
      var item = remove.closest('li');
      if (item) item.remove();
    }
  });

  // Enter in the name or value box submits the form: the pair goes with it. Registered before the
  // handler that leaves empty controls out, so a filter with an empty value survives as `arg.x=`.
  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.querySelector('[data-arg-name]')) return;
    if (!addArgFilter(form)) event.preventDefault();
  }, true);

  // ---------------------------------------------------------------------------------------------
  // Long logs: "Load earlier lines" fetches the page of rows before the first one shown (HTML rows,
  // escaped by the server) and puts it on top, keeping the view where it was. The response's Link
  // header names the page before that one; without it, line 1 is shown.

  // A log that starts after line 1 opens scrolled to its end: the last lines are what it was opened for.
  var earlier = document.querySelectorAll('.logs-card [data-load-earlier]');
  for (var e = 0; e < earlier.length; e++) {
    var endTerminal = earlier[e].closest('section.card').querySelector('[data-role="terminal"]');
    if (endTerminal) endTerminal.scrollTop = endTerminal.scrollHeight;
  }

  document.addEventListener('click', function (event) {
    var button = event.target instanceof Element ? event.target.closest('[data-load-earlier]') : null;
    if (!button || button.disabled) return;
    event.preventDefault();
    var card = button.closest('section.card');
    var lines = card && card.querySelector('[data-role="log-lines"]');
    var terminal = card && card.querySelector('[data-role="terminal"]');
    var note = card && card.querySelector('[data-role="log-window-note"]');
    if (!lines || !terminal) return;
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    fetch(button.getAttribute('data-load-earlier'), { headers: { Accept: 'text/html' }, credentials: 'same-origin' })
      .then(function (response) {
        if (!response.ok) throw new Error('the server answered ' + response.status);
        var link = /<([^>]+)>;\s*rel="next"/.exec(response.headers.get('Link') || '');
        return response.text().then(function (html) { return { html: html, next: link ? link[1] : null }; });
      })
      .then(function (page) {
        var template = document.createElement('template');
        template.innerHTML = page.html; // table rows rendered and escaped by the server (log-rows.pug)
        var height = terminal.scrollHeight;
        lines.insertBefore(template.content, lines.firstChild);
        terminal.scrollTop += terminal.scrollHeight - height;
        var firstRow = lines.querySelector('tr[data-seq]');
        if (page.next) {
          button.setAttribute('data-load-earlier', page.next);
          button.disabled = false;
        } else {
          button.remove();
        }
        if (note && firstRow) note.textContent = note.textContent.replace(/Showing lines \d+/, 'Showing lines ' + firstRow.getAttribute('data-seq'));
      })
      .catch(function (error) {
        button.disabled = false;
        if (note) note.textContent = 'Could not load earlier lines: ' + error.message;
      })
      .then(function () { button.removeAttribute('aria-busy'); });
  });

  // ---------------------------------------------------------------------------------------------
  // Task list filter: <input data-filter=".task-card"> hides cards whose data-filter-text lacks the words.

  var filter = document.querySelector('input[data-filter]');
  if (filter) {
    filter.addEventListener('input', function () {
      var words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
      var items = document.querySelectorAll(filter.getAttribute('data-filter'));
      var shown = 0;
      for (var i = 0; i < items.length; i++) {
        var text = items[i].getAttribute('data-filter-text') || items[i].textContent.toLowerCase();
        var match = words.every(function (w) { return text.indexOf(w) !== -1; });
        items[i].hidden = !match;
        if (match) shown++;
      }
      var sections = document.querySelectorAll('section.category');
      for (var j = 0; j < sections.length; j++) {
        sections[j].hidden = !sections[j].querySelector(filter.getAttribute('data-filter') + ':not([hidden])');
      }
      var none = document.querySelector('[data-role="filter-empty"]');
      if (none) none.hidden = shown > 0;
    });
  }

  // The nav link of the current section is marked for assistive technology and styling.
  var navLinks = document.querySelectorAll('.site-nav a');
  for (var n = 0; n < navLinks.length; n++) {
    if (location.pathname.indexOf(navLinks[n].pathname) === 0) navLinks[n].setAttribute('aria-current', 'page');
  }

  // ---------------------------------------------------------------------------------------------
  // (d) The live log. #live[data-start-path] starts a run (once); #live[data-watch-path] attaches to one.
  // After `started` the page only ever re-attaches to the watch path: reconnecting to the start path
  // would run the task again.

  var live = document.getElementById('live');
  if (live) startLive(live);

  function startLive(card) {
    var startPath = card.getAttribute('data-start-path');
    var watchPath = card.getAttribute('data-watch-path');
    var part = function (role) { return card.querySelector('[data-role="' + role + '"]'); };
    var terminal = part('terminal');
    var lines = part('log-lines');
    var emptyNote = part('log-empty');
    var progress = part('progress');
    var progressText = part('progress-text');
    var errorBox = part('error');
    var connState = part('conn');
    var runLink = part('run-link');
    var cancel = card.querySelector('[data-action="cancel"]');
    var resultBox = document.getElementById('live-result');

    var lastSeq = null; // highest seq shown; lines at or below it are duplicates
    var rows = lines.querySelectorAll('tr[data-seq]');
    for (var i = 0; i < rows.length; i++) {
      var seq = Number(rows[i].getAttribute('data-seq'));
      if (lastSeq === null || seq > lastSeq) lastSeq = seq;
    }

    var socket = null;
    var finished = false; // complete or close-connection received: never reconnect
    var completed = false;
    var failures = 0; // consecutive connections that never opened
    var attempt = 0;
    var retryTimer = null;
    var cancelHref = cancel && cancel.getAttribute('href');
    var cancelLabelNode = cancel && cancel.querySelector('span:last-child');
    var cancelLabel = cancelLabelNode ? cancelLabelNode.textContent : ''; // "Cancel": restored when the run ends
    var sawProgress = progress.hasAttribute('max');
    var scrollQueued = false;
    var stickToBottom = true;

    terminal.addEventListener('scroll', function () {
      stickToBottom = terminal.scrollHeight - terminal.scrollTop - terminal.clientHeight < 24;
    });
    scrollToBottom();

    if (cancel) {
      cancel.addEventListener('click', function (event) {
        event.preventDefault();
        if (finished || cancel.getAttribute('aria-disabled') === 'true') return;
        if (socket && socket.readyState === WebSocket.OPEN) {
          socket.send(JSON.stringify({ cmd: 'cancel' }));
        } else if (cancelHref) {
          location.href = cancelHref; // the socket is down: cancel over HTTP (the run page comes back)
          return;
        } else {
          return;
        }
        setCancel(false, 'Cancelling…');
      });
    }

    if (watchPath) {
      connect(withAfter(watchPath));
    } else if (startPath) {
      connect(startPath);
    }

    function connect(path) {
      clearTimeout(retryTimer);
      setConn(attempt ? 'reconnecting…' : 'connecting…');
      var ws;
      try {
        ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + path);
      } catch (e) {
        showError('Could not open the live connection: ' + e.message);
        return;
      }
      socket = ws;
      var opened = false;
      ws.addEventListener('open', function () {
        opened = true;
        failures = 0;
        setConn('live');
      });
      ws.addEventListener('message', function (event) {
        if (ws !== socket) return;
        var message;
        try {
          message = JSON.parse(event.data);
        } catch (e) {
          return; // not ours: ignore the frame
        }
        attempt = 0; // the server is talking: the next drop starts the backoff again at 1 s
        if (message && typeof message === 'object') handle(message, ws);
      });
      ws.addEventListener('close', function (event) {
        if (ws !== socket) return;
        socket = null;
        if (!opened) failures++;
        if (finished) {
          setConn('');
          return;
        }
        if (isFinalClose(event.code)) {
          setConn('disconnected');
          if (!errorBox.textContent) showError('The server closed the live connection' + (event.reason ? ': ' + event.reason : '.'));
          return;
        }
        reconnect();
      });
    }

    // 1000 = the server ended it on purpose, 1003/1007/1008/1009 = it refused what it got, 4xxx = ours.
    function isFinalClose(code) {
      return code === 1000 || code === 1003 || code === 1007 || code === 1008 || code === 1009 || (code >= 4000 && code < 5000);
    }

    function reconnect() {
      if (!watchPath) {
        // The run may or may not have started: never start it again. Its page is in the history.
        setConn('disconnected');
        showError(startPath && lastSeq === null && failures > 0
          ? 'The run could not be started (the server refused the connection). Check the form and try again.'
          : 'The connection dropped before the run was identified; find it in the history.');
        return;
      }
      if (failures >= 10) {
        setConn('disconnected');
        showError('Lost the connection to the server. Reload the page to re-attach to the run.');
        return;
      }
      var delay = Math.min(1000 * Math.pow(2, attempt), 10000);
      attempt++;
      setConn('reconnecting in ' + Math.round(delay / 1000) + ' s…');
      retryTimer = setTimeout(function () { connect(withAfter(watchPath)); }, delay);
    }

    // The watch path with after=<last seq shown>, replacing any `after` it already has (the run page's
    // watch path carries the server's own), so the server replays only what this page lacks.
    function withAfter(path) {
      if (lastSeq === null) return path;
      var url = new URL(path, location.href);
      url.searchParams.set('after', String(lastSeq));
      return url.pathname + url.search;
    }

    function handle(message, ws) {
      var param = message.param && typeof message.param === 'object' ? message.param : {};
      switch (message.cmd) {
        case 'started':
          if (typeof param.watchPath === 'string') watchPath = param.watchPath;
          if (typeof param.href === 'string') {
            // A reload now opens the run page, which re-attaches instead of starting a new run.
            history.replaceState(history.state, '', param.href);
            if (runLink) {
              runLink.setAttribute('href', param.href);
              runLink.hidden = false;
            }
          }
          cancelHref = typeof param.cancelHref === 'string' ? param.cancelHref : (typeof param.href === 'string' ? param.href + '/cancel' : cancelHref);
          if (cancel && !finished) setCancel(true);
          break;
        case 'output':
          appendLine(param);
          break;
        case 'progress':
          setProgress(param);
          break;
        case 'complete':
          complete(param);
          break;
        case 'close-connection':
          finished = true; // the server is done with this run: no reconnect
          setConn(completed ? '' : 'closed');
          setCancel(false, cancelLabel);
          ws.close(1000);
          break;
        case 'error':
          showError(typeof param.message === 'string' ? param.message : 'The server reported an error.');
          break;
        default:
          break;
      }
    }

    function appendLine(param) {
      var seq = Number(param.seq);
      if (!isFinite(seq)) return;
      if (lastSeq !== null && seq <= lastSeq) return; // already shown (replayed after a re-attach)
      lastSeq = seq;
      var row = document.createElement('tr');
      row.setAttribute('data-seq', String(seq));
      if (typeof param.stream === 'string' && param.stream) row.className = 'stream-' + param.stream;
      var number = document.createElement('th');
      number.setAttribute('scope', 'row');
      number.textContent = String(seq);
      var text = document.createElement('td');
      // param.html is the line already escaped by the server (colours as <span class="ansi-…">).
      if (typeof param.html === 'string') text.insertAdjacentHTML('beforeend', param.html);
      else text.textContent = typeof param.msg === 'string' ? param.msg : '';
      row.appendChild(number);
      row.appendChild(text);
      lines.appendChild(row);
      if (emptyNote) emptyNote.hidden = true;
      scrollToBottom();
    }

    function scrollToBottom() {
      if (!stickToBottom || scrollQueued) return;
      scrollQueued = true;
      requestAnimationFrame(function () {
        scrollQueued = false;
        terminal.scrollTop = terminal.scrollHeight;
      });
    }

    function setProgress(param) {
      var done = Number(param.done), total = Number(param.total);
      if (isFinite(total) && total > 0 && isFinite(done)) {
        progress.max = total;
        progress.value = Math.max(0, Math.min(done, total));
        sawProgress = true;
      }
      var text = sawProgress && total > 0 ? done + ' / ' + total : '';
      if (typeof param.message === 'string' && param.message) text += (text ? ' — ' : '') + param.message;
      progressText.textContent = text;
    }

    function complete(param) {
      finished = true;
      completed = true;
      clearTimeout(retryTimer);
      var result = param.result && typeof param.result === 'object' ? param.result : {};
      var status = typeof result.status === 'string' ? result.status : 'ok';
      if (resultBox && typeof param.html === 'string') {
        // param.html is a fragment rendered (and escaped) by the server from result-fragment.pug.
        resultBox.innerHTML = param.html;
        refreshTimes(resultBox);
        // The fragment links to the run's page: drop that link when this is the page (after `started`,
        // or the run page itself).
        var selfLinks = resultBox.querySelectorAll('a[data-role="run-page-link"]');
        for (var k = 0; k < selfLinks.length; k++) {
          if (selfLinks[k].pathname === location.pathname) selfLinks[k].remove();
        }
      }
      setStatus(status);
      if (sawProgress) {
        if (status === 'ok') progress.value = progress.max;
      } else {
        progress.max = 1;
        progress.value = status === 'ok' ? 1 : 0;
      }
      progressText.textContent = status === 'ok' ? 'done' : status;
      setCancel(false, cancelLabel);
    }

    function setStatus(status) {
      var template = card.querySelector('template[data-role="status-templates"]');
      var badge = null;
      if (template) {
        var all = template.content.querySelectorAll('[data-status]');
        for (var i = 0; i < all.length; i++) if (all[i].getAttribute('data-status') === status) badge = all[i];
      }
      var holders = document.querySelectorAll('[data-role="status"]');
      for (var j = 0; j < holders.length; j++) {
        if (badge) {
          holders[j].replaceChildren(badge.cloneNode(true));
        } else {
          var plain = document.createElement('span');
          plain.className = 'badge status status-unknown';
          plain.textContent = status;
          holders[j].replaceChildren(plain);
        }
      }
    }

    function setCancel(enabled, text) {
      if (!cancel) return;
      if (cancel instanceof HTMLButtonElement) cancel.disabled = !enabled;
      if (enabled) cancel.removeAttribute('aria-disabled');
      else cancel.setAttribute('aria-disabled', 'true');
      if (text) {
        var label = cancel.querySelector('span:last-child');
        if (label) label.textContent = text;
      }
    }

    function showError(text) {
      errorBox.textContent = text;
      errorBox.hidden = false;
    }

    function setConn(text) {
      if (connState) connState.textContent = text;
    }
  }
})();
