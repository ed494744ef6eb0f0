// The API server of a running shoal with access tokens: who may read /api/*, what is open
// (/metrics, /health), 404 and 405, /health listing every listener, promtool on the live
// exposition, and a real Prometheus server scraping shoal until it sees the traffic sent.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { parseExposition, sampleValue } from "../helpers/stats-prometheus.ts";
import {
  havePrometheus,
  havePromtool,
  PROMTOOL,
  type PrometheusServer,
  startPrometheus,
} from "../helpers/stats-prometheus-server.ts";
import { apiRequest, type StatsShoal, startStatsShoal } from "../helpers/stats-shoal.ts";
import { Event, randomHash, UdpTrackerClient } from "../helpers/udp-client.ts";

const TIMEOUT = 120_000;
/** Bound on how long Prometheus may take to start and to scrape what was sent. */
const PROMETHEUS_DEADLINE_MS = 60_000;
const TOKEN = "stats-test-Token_1";
const OTHER_TOKEN = "second.token~2";

let s: StatsShoal;
/** 401 answers this file has caused so far; shoal_api_unauthorized_total must equal it. */
let unauthorizedSent = 0;

async function unauthorizedCounter(): Promise<number> {
  const r = await apiRequest(s.api, "/metrics");
  assert.equal(r.status, 200);
  return sampleValue(parseExposition(r.text), "shoal_api_unauthorized_total");
}

async function expect401(path: string, headers: Record<string, string> = {}, method = "GET") {
  const r = await apiRequest(s.api, path, { headers, method });
  unauthorizedSent++;
  assert.equal(r.status, 401, `${method} ${path} ${JSON.stringify(headers)}: ${r.text}`);
  assert.match(r.headers["www-authenticate"] ?? "", /^Bearer /);
  if (method !== "HEAD") {
    const body = JSON.parse(r.text) as { error?: unknown; torrents?: unknown };
    assert.equal(typeof body.error, "string");
    assert.equal(body.torrents, undefined, "no statistics in a refusal");
  }
}

describe("the API server", { timeout: TIMEOUT }, () => {
  before(async () => {
    s = await startStatsShoal({ sections: { api: { access_tokens: [TOKEN, OTHER_TOKEN] } } });
  });
  after(async () => {
    await s?.shoal.cleanup();
  });

  test("/api/* without a token, or with a wrong one, is 401", async () => {
    await expect401("/api/v1/stats");
    await expect401("/api/v1/stats/nested");
    await expect401("/api/v1/stats", { Authorization: "Bearer not-the-token" });
    await expect401("/api/v1/stats", { Authorization: `Bearer ${TOKEN}x` });
    await expect401("/api/v1/stats", { Authorization: `Bearer ${TOKEN.slice(0, -1)}` });
    await expect401(`/api/v1/stats?token=${encodeURIComponent(TOKEN.toUpperCase())}`);
    await expect401("/api/v1/stats?token=");
    await expect401("/api/v1/stats", { Authorization: "Bearer " });
    await expect401("/api/v1/stats", {
      Authorization: `Basic ${Buffer.from(`u:${TOKEN}`).toString("base64")}`,
    });
    // A wrong Bearer token is not rescued by a right ?token=.
    await expect401(`/api/v1/stats?token=${TOKEN}`, { Authorization: "Bearer wrong" });
    // An unknown path under /api/ is refused before it is looked up.
    await expect401("/api/v1/no-such-thing");
    await expect401("/api/v1/stats", {}, "HEAD");
  });

  test("each counted in shoal_api_unauthorized_total", async () => {
    assert.equal(await unauthorizedCounter(), unauthorizedSent);
    await expect401("/api/v1/stats");
    assert.equal(await unauthorizedCounter(), unauthorizedSent);
  });

  test("Authorization: Bearer with either token is 200 with the statistics", async () => {
    for (const token of [TOKEN, OTHER_TOKEN]) {
      const r = await apiRequest(s.api, "/api/v1/stats", { headers: { Authorization: `Bearer ${token}` } });
      assert.equal(r.status, 200, r.text);
      assert.match(r.headers["content-type"] ?? "", /^application\/json/);
      const body = JSON.parse(r.text) as Record<string, unknown>;
      assert.equal(Object.keys(body).length, 28);
      assert.equal(body.udp_requests_aborted, 0);
    }
    const nested = await apiRequest(s.api, "/api/v1/stats/nested", {
      headers: { Authorization: `Bearer ${OTHER_TOKEN}` },
    });
    assert.equal(nested.status, 200);
    assert.ok("ws_tracker_metrics" in (JSON.parse(nested.text) as object));
  });

  test("?token= with either token is 200", async () => {
    for (const [path, token] of [
      ["/api/v1/stats", TOKEN],
      ["/api/v1/stats/nested", OTHER_TOKEN],
    ]) {
      const r = await apiRequest(s.api, `${path}?token=${encodeURIComponent(token)}`);
      assert.equal(r.status, 200, `${path}: ${r.text}`);
      JSON.parse(r.text);
    }
  });

  test("HEAD with a token is 200 without a body", async () => {
    const r = await apiRequest(s.api, "/api/v1/stats", {
      method: "HEAD",
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(r.status, 200);
    assert.equal(r.text, "");
  });

  test("successful requests do not move the 401 counter", async () => {
    assert.equal(await unauthorizedCounter(), unauthorizedSent);
  });

  test("/metrics and /health need no token", async () => {
    const m = await apiRequest(s.api, "/metrics");
    assert.equal(m.status, 200);
    assert.match(m.headers["content-type"] ?? "", /^text\/plain; version=0\.0\.4/);
    assert.match(m.text, /^# HELP shoal_requests_total /m);
    const h = await apiRequest(s.api, "/health");
    assert.equal(h.status, 200);
    const head = await apiRequest(s.api, "/metrics", { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(head.text, "");
    assert.equal(await unauthorizedCounter(), unauthorizedSent);
  });

  test("the tokens never appear in what shoal prints", () => {
    const printed = s.shoal.stdout() + s.shoal.stderr();
    assert.ok(!printed.includes(TOKEN));
    assert.ok(!printed.includes(OTHER_TOKEN));
  });

  test("unknown paths outside /api/ are 404 with the list of paths", async () => {
    for (const path of ["/", "/nope", "/metrics/", "/healthz", "/api"]) {
      const r = await apiRequest(s.api, path);
      assert.equal(r.status, 404, path);
      const body = JSON.parse(r.text) as { error: string; paths: string[] };
      assert.deepEqual(body.paths.sort(), ["/api/v1/stats", "/api/v1/stats/nested", "/health", "/metrics"]);
    }
  });

  test("unknown paths under /api/ are 404 with a token", async () => {
    const r = await apiRequest(s.api, "/api/v1/stats/flat", {
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(r.status, 404);
    const r2 = await apiRequest(s.api, `/api/v2/stats?token=${TOKEN}`);
    assert.equal(r2.status, 404);
  });

  test("methods other than GET and HEAD are 405 with Allow, token or not, and not counted as 401", async () => {
    const before = await unauthorizedCounter();
    for (const [method, path] of [
      ["POST", "/metrics"],
      ["DELETE", "/health"],
      ["PUT", "/api/v1/stats"],
      ["POST", "/api/v1/stats"],
      ["OPTIONS", "/nope"],
    ]) {
      const r = await apiRequest(s.api, path, { method });
      assert.equal(r.status, 405, `${method} ${path}`);
      assert.equal(r.headers.allow, "GET, HEAD");
    }
    const withToken = await apiRequest(s.api, "/api/v1/stats", {
      method: "POST",
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(withToken.status, 405);
    assert.equal(await unauthorizedCounter(), before);
  });

  test("/health is 200 and lists every UDP and HTTP listener, each up", async () => {
    const r = await apiRequest(s.api, "/health");
    assert.equal(r.status, 200);
    const body = JSON.parse(r.text) as {
      status: string;
      failed: string[];
      listeners: { protocol: string; address: string; up: boolean }[];
    };
    assert.equal(body.status, "ok");
    assert.deepEqual(body.failed, []);
    const want = [
      ...s.listening.udp.map((a) => `udp ${a}`),
      ...s.listening.http.map((a) => `http ${a}`),
    ].sort();
    assert.deepEqual(body.listeners.map((l) => `${l.protocol} ${l.address}`).sort(), want);
    assert.equal(want.length, 4, "udp and http on both loopbacks");
    for (const l of body.listeners) assert.equal(l.up, true, `${l.protocol} ${l.address}`);
  });

  test("promtool check metrics finds nothing in the live /metrics", async (t) => {
    if (!havePromtool()) {
      t.skip("promtool not installed (apt-get install prometheus)");
      return;
    }
    // Some traffic first, so that histograms and counters hold real values.
    const c = await UdpTrackerClient.open(s.udp6, { owner: t });
    for (let i = 0; i < 20; i++) await c.announce({ infoHash: randomHash(), event: Event.Started });
    const m = await apiRequest(s.api, "/metrics");
    assert.equal(m.status, 200);
    const r = spawnSync(PROMTOOL, ["check", "metrics"], { input: m.text, encoding: "utf8", timeout: 30_000 });
    assert.equal(`${r.stdout}${r.stderr}`, "", "promtool printed nothing");
    assert.equal(r.status, 0, "promtool exit status");
  });

  test("a real Prometheus server scrapes shoal and sees the UDP announces sent", async (t) => {
    if (!havePrometheus()) {
      t.skip("prometheus not installed (apt-get install prometheus)");
      return;
    }
    const prom: PrometheusServer = await startPrometheus(s.listening.api);
    t.after(() => prom.stop());
    await prom.ready(PROMETHEUS_DEADLINE_MS);

    const series = 'shoal_requests_total{protocol="udp",kind="announce",ip_family="4"}';
    const before = sampleValue(
      parseExposition((await apiRequest(s.api, "/metrics")).text),
      "shoal_requests_total",
      {
        protocol: "udp",
        kind: "announce",
        ip_family: "4",
      },
    );
    const sent = 7;
    const c = await UdpTrackerClient.open(s.udp4, { owner: t });
    for (let i = 0; i < sent; i++) await c.announce({ infoHash: randomHash(), event: Event.Started });
    const want = before + sent;

    const deadline = Date.now() + PROMETHEUS_DEADLINE_MS;
    let last = "";
    for (;;) {
      const a = await prom.query(series);
      last = JSON.stringify(a);
      const result = a.data?.result ?? [];
      if (a.status === "success" && result.length === 1 && Number(result[0].value[1]) === want) {
        assert.equal(result[0].metric.job, "shoal");
        assert.equal(result[0].metric.instance, s.listening.api);
        break;
      }
      if (Date.now() > deadline) {
        const up = JSON.stringify(await prom.query('up{job="shoal"}'));
        assert.fail(
          `Prometheus did not show ${series} == ${want} within ${PROMETHEUS_DEADLINE_MS} ms; ` +
            `last answer ${last}; up: ${up}; prometheus said:\n${prom.output()}`,
        );
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    // The scrape itself succeeded as a whole.
    const up = await prom.query('up{job="shoal"}');
    assert.equal(up.data?.result[0]?.value[1], "1");
  });
});
