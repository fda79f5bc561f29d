/**
 * The dashboard's style sheet, served as `/dashboard.css`. System fonts
 * only, light and dark by the browser's preference; no external resource.
 */
export const DASHBOARD_CSS = String.raw`:root {
  color-scheme: light dark;
  --bg: #f6f7f9;
  --panel: #ffffff;
  --text: #1c2430;
  --muted: #5f6b7a;
  --line: #dde2e8;
  --accent: #2563eb;
  --accent2: #d97706;
  --ok: #15803d;
  --warn: #b45309;
  --bad: #b91c1c;
  --grid: #e6e9ee;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #12161c;
    --panel: #1a2029;
    --text: #e3e8ef;
    --muted: #97a3b4;
    --line: #2c3542;
    --accent: #60a5fa;
    --accent2: #fbbf24;
    --ok: #4ade80;
    --warn: #fbbf24;
    --bad: #f87171;
    --grid: #252d38;
  }
}
* { box-sizing: border-box; }
html { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
body { margin: 0; background: var(--bg); color: var(--text); }
header {
  display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: 12px 32px;
  padding: 14px 24px; background: var(--panel); border-bottom: 1px solid var(--line);
}
h1 { font-size: 20px; margin: 0; font-weight: 650; }
h2 { font-size: 15px; margin: 0 0 10px; font-weight: 650; }
h3 { font-size: 12px; margin: 14px 0 6px; font-weight: 600; color: var(--muted); text-transform: uppercase; letter-spacing: 0.04em; }
.title { display: flex; align-items: baseline; gap: 16px; flex-wrap: wrap; }
.connection { margin: 0; font-size: 13px; color: var(--ok); }
.connection::before { content: "●"; margin-right: 6px; }
body.connecting .connection { color: var(--muted); }
body.disconnected .connection { color: var(--bad); font-weight: 600; }
body.disconnected main { opacity: 0.45; filter: grayscale(0.8); }
.facts { display: flex; flex-wrap: wrap; gap: 8px 28px; margin: 0; }
.facts div { display: flex; flex-direction: column; min-width: 0; }
.facts dt { font-size: 11px; color: var(--muted); text-transform: uppercase; letter-spacing: 0.04em; }
.facts dd { margin: 0; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; overflow-wrap: anywhere; }
#curve.on { color: var(--ok); font-weight: 600; }
#curve.off { color: var(--warn); font-weight: 600; }
main {
  display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 16px; padding: 16px 24px;
}
.cards { grid-column: 1 / -1; display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 16px; }
.card, .panel { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; }
.card { padding: 12px 14px; display: flex; flex-direction: column; gap: 2px; }
.card .label { font-size: 12px; color: var(--muted); }
.card .value { font-size: 26px; font-weight: 650; font-variant-numeric: tabular-nums; }
.card .sub { font-size: 12px; color: var(--muted); }
.panel { padding: 14px 16px; min-width: 0; }
.panel.wide { grid-column: 1 / -1; }
.charts { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 16px; }
.chart { margin: 0; min-width: 0; }
.chart figcaption { font-size: 12px; color: var(--muted); display: flex; gap: 12px; align-items: baseline; margin-bottom: 4px; }
.chart .name { color: var(--text); font-weight: 600; }
.chart .peak { margin-left: auto; font-variant-numeric: tabular-nums; }
.legend::before { content: ""; display: inline-block; width: 14px; height: 0; border-top: 2px solid var(--accent); margin-right: 5px; vertical-align: middle; }
.legend.received::before { border-top: 2px dashed var(--accent2); }
.chart svg { display: block; width: 100%; height: 120px; background: var(--bg); border-radius: 4px; }
.chart .axis { display: flex; justify-content: space-between; font-size: 11px; color: var(--muted); margin-top: 2px; }
.chart .grid { stroke: var(--grid); stroke-width: 1; }
.chart .series { fill: none; stroke-width: 2; stroke-linejoin: round; }
.chart .series.done { stroke: var(--accent); }
.chart .series.received { stroke: var(--accent2); stroke-dasharray: 5 4; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th { text-align: left; font-size: 12px; font-weight: 600; color: var(--muted); border-bottom: 1px solid var(--line); padding: 4px 8px; }
td { padding: 4px 8px; border-bottom: 1px solid var(--line); }
.num { text-align: right; }
td.id { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; overflow-wrap: anywhere; max-width: 28em; }
td.bar { width: 22%; }
meter { width: 100%; height: 10px; }
meter::-webkit-meter-bar { background: var(--grid); border: 0; border-radius: 3px; }
meter::-webkit-meter-optimum-value, meter::-webkit-meter-suboptimum-value, meter::-webkit-meter-even-less-good-value { background: var(--accent); border-radius: 3px; }
meter::-moz-meter-bar { background: var(--accent); }
.empty, .more { color: var(--muted); font-size: 13px; margin: 8px 0 0; }
.more:empty { display: none; }
.counts { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 6px 16px; margin: 0; }
.count { display: flex; justify-content: space-between; gap: 8px; border-bottom: 1px dotted var(--line); padding: 2px 0; }
.count dt { color: var(--muted); overflow-wrap: anywhere; }
.count dd { margin: 0; font-weight: 600; font-variant-numeric: tabular-nums; }
.outcome-ok dd, .state-ok dd { color: var(--ok); }
.state-warning dd, .outcome-unknown dd, .state-unknown dd, .outcome-timeout dd { color: var(--warn); }
.outcome-failed dd, .state-critical dd { color: var(--bad); }
.count.nonzero dd { color: var(--bad); }
.count dd.absent, .count dd.zero { color: var(--muted); font-weight: 400; }
footer { padding: 0 24px 20px; font-size: 12px; color: var(--muted); }
footer a, .noscript a { color: var(--accent); }
.noscript { margin: 16px 24px; padding: 12px; border: 1px solid var(--bad); border-radius: 6px; }
@media (max-width: 800px) {
  main, .charts { grid-template-columns: minmax(0, 1fr); }
}
`
