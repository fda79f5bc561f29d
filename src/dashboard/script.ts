/**
 * The dashboard's script, served as `/dashboard.js`: it polls
 * `status.json` every second and redraws the page from it. Kept as a string
 * so it ships inside dist/ and the esbuild bundles alike, with no build step
 * of its own; tests/unit/dashboard-routes.test.ts checks that it parses, and
 * tests/e2e/dashboard.test.ts runs it in Chromium.
 *
 * Everything in the status came over the network, so the script never
 * parses it as markup: strings go in with `textContent` (or as attribute
 * values, which are not parsed either), elements are made with
 * `createElement`, and every field is checked for its type before use, so a
 * gateway that answers something odd shows `—`, never a broken page.
 * (String.raw: the source holds backslashes that must reach the browser as
 * they are; it must hold no backtick and no dollar-brace.)
 */
export const DASHBOARD_JS = String.raw`'use strict';
(function () {
  var POLL_MS = 1000;
  var TIMEOUT_MS = 3000;
  /** Longest network string shown; a gateway's own ids are far shorter. */
  var MAX_TEXT = 200;
  /** Rows drawn per table and entries per counter list: the page stays small whatever arrives. */
  var MAX_ROWS = 100;
  var MAX_POINTS = 60;
  var SVG = 'http://www.w3.org/2000/svg';
  var OUTCOMES = ['ok', 'unknown', 'failed', 'timeout', 'cancelled'];
  var STATES = ['ok', 'warning', 'critical', 'unknown'];

  var lastUpdate = 0;

  function byId(id) { return document.getElementById(id); }

  function isObject(v) { return typeof v === 'object' && v !== null && !Array.isArray(v); }
  function obj(v) { return isObject(v) ? v : {}; }
  function list(v) { return Array.isArray(v) ? v.slice(0, MAX_ROWS) : []; }
  function num(v) { return typeof v === 'number' && isFinite(v) ? v : null; }

  /** Controls, format characters (bidi overrides, zero-width ones), separators, lone surrogates, and the backslash that marks an escape. */
  var HIDDEN = /[\\\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu;

  /** Each hidden character as a visible escape (U+202E as \u202e), as gateway-status does on a terminal: one id cannot pass for another. */
  function visible(s) {
    return s.replace(HIDDEN, function (c) {
      if (c === '\\') return '\\\\';
      var hex = c.codePointAt(0).toString(16);
      return hex.length <= 2 ? '\\x' + ('0' + hex).slice(-2) : hex.length <= 4 ? '\\u' + ('000' + hex).slice(-4) : '\\u{' + hex + '}';
    });
  }

  /** A network value as text: strings cut to MAX_TEXT, anything else as short JSON; hidden characters made visible. */
  function text(v) {
    if (v === undefined || v === null) return '—';
    var s = typeof v === 'string' ? v : JSON.stringify(v);
    if (typeof s !== 'string') return '—';
    return s.length > MAX_TEXT ? visible(s.slice(0, MAX_TEXT)) + '…' : visible(s);
  }

  function count(v) {
    var n = num(v);
    return n === null ? (v === undefined ? '—' : text(v)) : n.toLocaleString('en-US');
  }

  function rate(v) {
    var n = num(v);
    if (n === null) return '—';
    return String(Number(n.toFixed(n < 10 ? 2 : n < 100 ? 1 : 0)));
  }

  function bytes(v) {
    var n = num(v);
    if (n === null) return text(v);
    if (n < 1024) return n + ' B';
    if (n < 1024 * 1024) return (n / 1024).toFixed(1) + ' KiB';
    if (n < 1024 * 1024 * 1024) return (n / 1024 / 1024).toFixed(1) + ' MiB';
    return (n / 1024 / 1024 / 1024).toFixed(2) + ' GiB';
  }

  function two(n) { return n < 10 ? '0' + n : String(n); }

  function duration(v) {
    var ms = num(v);
    if (ms === null) return text(v);
    var s = Math.floor(ms / 1000);
    if (s < 60) return s + ' s';
    var m = Math.floor(s / 60);
    if (m < 60) return m + ' min ' + two(s % 60) + ' s';
    var h = Math.floor(m / 60);
    if (h < 24) return h + ' h ' + two(m % 60) + ' min';
    return Math.floor(h / 24) + ' d ' + two(h % 24) + ' h';
  }

  function ago(v) {
    var ms = num(v);
    return ms === null ? text(v) : (ms / 1000).toFixed(1) + ' s ago';
  }

  function clock(date) { return two(date.getHours()) + ':' + two(date.getMinutes()) + ':' + two(date.getSeconds()); }

  /** An element with a class and its text, the only way network strings reach the page. */
  function el(tag, className, content) {
    var e = document.createElement(tag);
    if (className) e.className = className;
    if (content !== undefined) e.textContent = content;
    return e;
  }

  function setText(id, content) {
    var e = byId(id);
    if (e) e.textContent = content;
  }

  function meter(value, max) {
    var m = document.createElement('meter');
    m.min = 0;
    m.max = Math.max(1, num(max) || 0);
    m.value = Math.max(0, num(value) || 0);
    return m;
  }

  /** A definition list of counts: [label, value, key] entries; each dd carries data-counter=key for scripts and tests. */
  function fillCounts(id, entries) {
    var dl = byId(id);
    if (!dl) return;
    var items = [];
    entries.slice(0, MAX_ROWS).forEach(function (entry) {
      var wrap = el('div', 'count' + (entry[3] ? ' ' + entry[3] : ''));
      wrap.appendChild(el('dt', '', entry[0]));
      var dd = el('dd', entry[1] === undefined ? 'absent' : entry[1] === 0 ? 'zero' : '', count(entry[1]));
      dd.setAttribute('data-counter', entry[2]);
      wrap.appendChild(dd);
      items.push(wrap);
    });
    dl.replaceChildren.apply(dl, items);
  }

  function renderHeader(s) {
    setText('endpoint', text(s.endpoint));
    setText('workers-endpoint', text(s.workersEndpoint));
    setText('uptime', duration(s.uptimeMs));
    var security = obj(s.security);
    var curve = byId('curve');
    curve.textContent = security.curve === true ? 'on' : security.curve === false ? 'off' : '—';
    curve.className = security.curve === true ? 'on' : security.curve === false ? 'off' : '';
    if (typeof security.publicKey === 'string') curve.title = 'server key ' + text(security.publicKey);
    else curve.removeAttribute('title');
  }

  function renderQueue(s) {
    var q = obj(s.queue);
    setText('queue-batches', count(q.batches));
    setText('queue-clients', 'from ' + count(q.clientCount) + ' clients');
    setText('queue-bytes', bytes(q.bytes));
    setText('queue-held', bytes(q.heldBytes) + ' held by workers');
    var clients = list(q.clients).filter(isObject).slice();
    clients.sort(function (a, b) { return (num(b.batches) || 0) - (num(a.batches) || 0); });
    var deepest = clients.length > 0 ? num(clients[0].batches) || 0 : 0;
    var rows = clients.map(function (c) {
      var tr = el('tr');
      tr.appendChild(el('td', 'id', text(c.client)));
      tr.appendChild(el('td', 'num', count(c.batches)));
      var share = el('td', 'bar');
      share.appendChild(meter(c.batches, deepest));
      tr.appendChild(share);
      return tr;
    });
    var body = byId('queue').tBodies[0];
    body.replaceChildren.apply(body, rows);
    byId('queue-empty').hidden = rows.length > 0;
    var more = (num(q.clientCount) || 0) - rows.length;
    setText('queue-more', more > 0 ? more + ' more clients with queued batches not listed' : '');
  }

  function renderWorkers(s) {
    // Counted over all of them; only the first MAX_ROWS are drawn.
    var all = Array.isArray(s.workers) ? s.workers.filter(isObject) : [];
    var workers = all.slice(0, MAX_ROWS);
    var remote = all.filter(function (w) { return w.kind === 'remote'; }).length;
    setText('workers-count', count(all.length));
    setText('workers-more', all.length > workers.length ? (all.length - workers.length) + ' more workers not listed' : '');
    var pool = obj(s.pool);
    setText('pool', (all.length - remote) + ' forked, ' + remote + ' remote · pool ' + count(pool.min) + '–' + count(pool.max) + (num(pool.starting) ? ', ' + count(pool.starting) + ' starting' : '') + (num(pool.retiring) ? ', ' + count(pool.retiring) + ' retiring' : ''));
    var rows = workers.map(function (w) {
      var tr = el('tr');
      tr.appendChild(el('td', 'id', text(w.id)));
      tr.appendChild(el('td', '', text(w.kind)));
      tr.appendChild(el('td', 'num', w.pid === undefined ? '—' : text(w.pid)));
      tr.appendChild(el('td', 'num', count(w.capacity)));
      tr.appendChild(el('td', 'num', count(w.inFlight)));
      var load = el('td', 'bar');
      load.appendChild(meter(w.inFlight, w.capacity));
      tr.appendChild(load);
      tr.appendChild(el('td', 'num', count(w.served)));
      tr.appendChild(el('td', 'num', ago(w.lastHeardMs)));
      return tr;
    });
    var body = byId('workers').tBodies[0];
    body.replaceChildren.apply(body, rows);
    byId('workers-empty').hidden = rows.length > 0;
  }

  function renderOutcomes(c) {
    var commands = c.commands;
    var states = c.states;
    fillCounts('outcomes', OUTCOMES.map(function (k) {
      return [k, isObject(commands) ? (commands[k] === undefined ? 0 : commands[k]) : undefined, 'commands.' + k, 'outcome-' + k];
    }));
    fillCounts('states', STATES.map(function (k) {
      return [k, isObject(states) ? (states[k] === undefined ? 0 : states[k]) : undefined, 'states.' + k, 'state-' + k];
    }));
  }

  function renderCounters(c) {
    // Counters that gateways before metrics lack (batchesReceived, commandsReceived, aborts, malformedFrom) are left out there.
    var entries = [['messages received', c.received, 'received']];
    if (c.batchesReceived !== undefined) entries.push(['batches received', c.batchesReceived, 'batchesReceived']);
    if (c.commandsReceived !== undefined) entries.push(['commands received', c.commandsReceived, 'commandsReceived']);
    entries = entries.concat([
      ['dispatched', c.dispatched, 'dispatched'],
      ['completed', c.completed, 'completed'],
      ['requeued', c.requeued, 'requeued'],
      ['duplicates', c.duplicates, 'duplicates'],
      ['second runs', c.speculative, 'speculative'],
    ]);
    if (c.aborts !== undefined) entries.push(['aborts', c.aborts, 'aborts']);
    entries = entries.concat([
      ['batches aborted', c.aborted, 'aborted'],
      ['cancels sent', c.cancelsSent, 'cancelsSent'],
      ['malformed', c.malformed, 'malformed'],
    ]);
    var from = c.malformedFrom;
    if (isObject(from)) {
      entries.push(['malformed, intake', from.intake, 'malformedFrom.intake']);
      entries.push(['malformed, workers', from.workers, 'malformedFrom.workers']);
    }
    entries = entries.concat([
      ['undelivered rejections', c.undelivered, 'undelivered'],
      ['workers forked', c.workersSpawned, 'workersSpawned'],
      ['workers lost', c.workersLost, 'workersLost'],
      ['workers refused', c.workersRefused, 'workersRefused'],
    ]);
    var refused = c.refused;
    if (isObject(refused)) {
      ['intake', 'workers', 'status'].forEach(function (port) {
        entries.push(['CURVE refused, ' + port, refused[port], 'refused.' + port]);
      });
    }
    fillCounts('counters', entries);
    var rejected = obj(c.rejected);
    var total = 0;
    var reasons = Object.keys(rejected).slice(0, MAX_ROWS).map(function (reason) {
      total += num(rejected[reason]) || 0;
      return [text(reason), rejected[reason], 'rejected.' + text(reason), num(rejected[reason]) ? 'nonzero' : ''];
    });
    fillCounts('rejected', [['total', total, 'rejected', total > 0 ? 'nonzero' : '']].concat(reasons));
  }

  /** A line chart of up to 60 rates, newest at the right edge, scaled to their peak. */
  function chart(figure, series, peakId) {
    var width = 600;
    var height = 120;
    var peak = 0;
    series.forEach(function (s) { s.values.forEach(function (v) { if (v > peak) peak = v; }); });
    var scale = peak > 0 ? peak : 1;
    var svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('viewBox', '0 0 ' + width + ' ' + height);
    svg.setAttribute('preserveAspectRatio', 'none');
    svg.setAttribute('role', 'img');
    var title = document.createElementNS(SVG, 'title');
    title.textContent = series.map(function (s) { return s.name + ' now ' + rate(s.values[s.values.length - 1]); }).join(', ') + ' (peak ' + rate(peak) + '/s)';
    svg.appendChild(title);
    [0.25, 0.5, 0.75].forEach(function (f) {
      var line = document.createElementNS(SVG, 'line');
      line.setAttribute('x1', '0');
      line.setAttribute('x2', String(width));
      line.setAttribute('y1', String(height * f));
      line.setAttribute('y2', String(height * f));
      line.setAttribute('class', 'grid');
      svg.appendChild(line);
    });
    series.forEach(function (s) {
      var values = s.values;
      if (values.length === 0) return;
      var step = width / (MAX_POINTS - 1);
      var offset = MAX_POINTS - values.length;
      var points = values.map(function (v, i) {
        var x = (offset + i) * step;
        var y = height - 2 - (v / scale) * (height - 6);
        return x.toFixed(1) + ',' + y.toFixed(1);
      });
      if (values.length === 1) points.unshift(((offset - 0.5) * step).toFixed(1) + ',' + points[0].split(',')[1]);
      var line = document.createElementNS(SVG, 'polyline');
      line.setAttribute('points', points.join(' '));
      line.setAttribute('class', 'series ' + s.className);
      line.setAttribute('vector-effect', 'non-scaling-stroke');
      svg.appendChild(line);
    });
    var old = figure.querySelector('svg');
    if (old) figure.replaceChild(svg, old);
    else figure.insertBefore(svg, figure.querySelector('.axis'));
    setText(peakId, 'peak ' + rate(peak) + '/s');
  }

  /** Rates from the network: at most the last 60, anything not a rate as 0. */
  function rates(v) {
    return Array.isArray(v) ? v.slice(-MAX_POINTS).map(function (x) { return num(x) !== null && x > 0 ? x : 0; }) : null;
  }

  function last(values) { return values && values.length > 0 ? values[values.length - 1] : null; }

  function renderRecent(s, c) {
    var recent = obj(s.recent);
    var batches = rates(recent.batchesPerSecond);
    var received = rates(recent.receivedPerSecond);
    var commands = rates(recent.commandsPerSecond);
    setText('batches-rate', batches ? rate(last(batches)) : '—');
    setText('received-rate', received ? rate(last(received)) + ' received/s' : '—');
    setText('commands-rate', commands ? rate(last(commands)) : '—');
    setText('commands-received', c.commandsReceived === undefined ? 'not counted by this gateway' : count(c.commandsReceived) + ' received');
    var series = [];
    if (batches) series.push({ name: 'done', className: 'done', values: batches });
    if (received) series.push({ name: 'received', className: 'received', values: received });
    chart(byId('chart-batches'), series, 'chart-batches-peak');
    chart(byId('chart-commands'), commands ? [{ name: 'done', className: 'done', values: commands }] : [], 'chart-commands-peak');
    if (!commands) setText('chart-commands-peak', 'not counted by this gateway');
  }

  function render(s) {
    var c = obj(s.counters);
    renderHeader(s);
    renderQueue(s);
    renderWorkers(s);
    renderOutcomes(c);
    renderCounters(c);
    renderRecent(s, c);
  }

  function connected() {
    lastUpdate = Date.now();
    document.body.classList.remove('disconnected', 'connecting');
    setText('connection', 'live · updated ' + clock(new Date(lastUpdate)));
  }

  function disconnected(reason) {
    document.body.classList.remove('connecting');
    document.body.classList.add('disconnected');
    var since = lastUpdate === 0 ? 'no data yet' : 'last update ' + clock(new Date(lastUpdate));
    setText('connection', 'disconnected (' + reason + ') · ' + since + ' · retrying');
  }

  function poll() {
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, TIMEOUT_MS);
    fetch('status.json', { cache: 'no-store', signal: controller.signal, credentials: 'same-origin' })
      .then(function (response) {
        if (!response.ok) throw new Error('HTTP ' + response.status);
        return response.json();
      })
      .then(function (status) {
        if (!isObject(status)) throw new Error('not a status');
        render(status);
        connected();
      })
      .catch(function (error) {
        disconnected(error && error.name === 'AbortError' ? 'no answer within ' + TIMEOUT_MS / 1000 + ' s' : text(error && error.message ? error.message : String(error)));
      })
      .then(function () {
        clearTimeout(timer);
        setTimeout(poll, POLL_MS);
      });
  }

  poll();
})();
`
