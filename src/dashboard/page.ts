/**
 * The dashboard's HTML: a static skeleton that dashboard.js fills from
 * `/status.json`. It holds no inline script or style (the page's CSP allows
 * neither) and loads nothing from outside the gateway, so it works offline.
 * Relative URLs keep it working behind a reverse proxy that mounts it under
 * a path.
 */
export const DASHBOARD_HTML = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Command gateway</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="dashboard.css">
<script src="dashboard.js" defer></script>
</head>
<body class="connecting">
<header>
  <div class="title">
    <h1>Command gateway</h1>
    <p id="connection" class="connection" role="status" aria-live="polite">connecting…</p>
  </div>
  <dl class="facts">
    <div><dt>endpoint</dt><dd id="endpoint">—</dd></div>
    <div><dt>workers port</dt><dd id="workers-endpoint">—</dd></div>
    <div><dt>uptime</dt><dd id="uptime">—</dd></div>
    <div><dt>CURVE</dt><dd id="curve">—</dd></div>
  </dl>
</header>
<noscript><p class="noscript">This dashboard needs JavaScript; the same data is at <a href="status.json">status.json</a>.</p></noscript>
<main>
  <section class="cards" aria-label="totals">
    <div class="card"><span class="label">queued batches</span><span class="value" id="queue-batches">—</span><span class="sub" id="queue-clients">—</span></div>
    <div class="card"><span class="label">queued bytes</span><span class="value" id="queue-bytes">—</span><span class="sub" id="queue-held">—</span></div>
    <div class="card"><span class="label">workers</span><span class="value" id="workers-count">—</span><span class="sub" id="pool">—</span></div>
    <div class="card"><span class="label">batches/s</span><span class="value" id="batches-rate">—</span><span class="sub" id="received-rate">—</span></div>
    <div class="card"><span class="label">commands/s</span><span class="value" id="commands-rate">—</span><span class="sub" id="commands-received">—</span></div>
  </section>

  <section class="panel wide">
    <h2>Last minute</h2>
    <div class="charts">
      <figure class="chart" id="chart-batches">
        <figcaption><span class="name">batches/s</span> <span class="legend done">done</span> <span class="legend received">received</span> <span class="peak" id="chart-batches-peak"></span></figcaption>
        <div class="axis"><span>60 s ago</span><span>now</span></div>
      </figure>
      <figure class="chart" id="chart-commands">
        <figcaption><span class="name">commands/s</span> <span class="legend done">done</span> <span class="peak" id="chart-commands-peak"></span></figcaption>
        <div class="axis"><span>60 s ago</span><span>now</span></div>
      </figure>
    </div>
  </section>

  <section class="panel">
    <h2>Queue per client</h2>
    <table id="queue">
      <thead><tr><th scope="col">client</th><th scope="col" class="num">batches</th><th scope="col">share</th></tr></thead>
      <tbody></tbody>
    </table>
    <p class="empty" id="queue-empty">No batches queued.</p>
    <p class="more" id="queue-more"></p>
  </section>

  <section class="panel">
    <h2>Outcomes</h2>
    <h3>commands</h3>
    <dl class="counts" id="outcomes"></dl>
    <h3>check states</h3>
    <dl class="counts" id="states"></dl>
  </section>

  <section class="panel wide">
    <h2>Workers</h2>
    <table id="workers">
      <thead><tr><th scope="col">id</th><th scope="col">kind</th><th scope="col" class="num">pid</th><th scope="col" class="num">capacity</th><th scope="col" class="num">in flight</th><th scope="col">load</th><th scope="col" class="num">served</th><th scope="col" class="num">last heard</th></tr></thead>
      <tbody></tbody>
    </table>
    <p class="empty" id="workers-empty">No workers connected.</p>
    <p class="more" id="workers-more"></p>
  </section>

  <section class="panel wide">
    <h2>Counters</h2>
    <dl class="counts" id="counters"></dl>
    <h3>rejected</h3>
    <dl class="counts" id="rejected"></dl>
  </section>
</main>
<footer><a href="status.json">status.json</a> · <a href="metrics">metrics</a></footer>
</body>
</html>
`
