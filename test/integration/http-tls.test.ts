// HTTPS: with tls_cert_path and tls_key_path every HTTP address speaks TLS. Certificates are made
// by the test (openssl, self-signed); SIGHUP re-reads the files, a good pair serves new
// handshakes, a bad one is logged and the previous certificate stays in service.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type tls from "node:tls";
import {
  announce,
  announcePath,
  httpGet,
  RawHttpClient,
  randomHash,
  randomPeerId,
  rawGet,
  readAnnounce,
  scrapePath,
} from "../helpers/http-client.ts";
import { type HttpEndpoint, type HttpShoal, startHttpShoal } from "../helpers/http-process.ts";
import { makeTmpdir } from "../helpers/shoal-process.ts";

const TEST_TIMEOUT = 60_000;
const LOG_TIMEOUT = 15_000;
const HEADER_TIMEOUT = 2;
/** Generous bound on a close the tracker must make; not a speed test. */
const CLOSE_BOUND_MS = 15_000;

interface Cert {
  certPath: string;
  keyPath: string;
  fingerprint: string;
}

/** A fresh self-signed certificate and key under `dir`, named after `name`. */
function makeCert(dir: string, name: string): Cert {
  const certPath = join(dir, `${name}.cert.pem`);
  const keyPath = join(dir, `${name}.key.pem`);
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      keyPath,
      "-out",
      certPath,
      "-days",
      "1",
      "-subj",
      `/CN=localhost`,
    ],
    { stdio: "ignore" },
  );
  return { certPath, keyPath, fingerprint: new X509Certificate(readFileSync(certPath)).fingerprint256 };
}

/** The certificate a new TLS connection to `e` is shown (with SNI when `servername` is given). */
async function servedFingerprint(e: HttpEndpoint, servername?: string): Promise<string> {
  const c = await RawHttpClient.connect(e, { tls: servername === undefined ? {} : { servername } });
  try {
    const fp = (c.socket as tls.TLSSocket).getPeerCertificate().fingerprint256;
    // and the connection serves requests
    const r = await c.request(rawGet(scrapePath([randomHash()])));
    assert.equal(r.status, 200);
    return fp;
  } finally {
    c.destroy();
  }
}

describe("HTTPS", { timeout: TEST_TIMEOUT }, () => {
  let t: HttpShoal;
  let certDir: string;
  let first: Cert;
  let liveCert: string;
  let liveKey: string;
  /** The pair the tracker should be serving now. */
  let current: Cert | undefined;
  const currentFingerprint = () => (current ?? first).fingerprint;

  before(async () => {
    certDir = makeTmpdir();
    first = makeCert(certDir, "first");
    t = await startHttpShoal({
      files: { "cert.pem": readFileSync(first.certPath), "key.pem": readFileSync(first.keyPath) },
      sections: (dir) => {
        liveCert = join(dir, "cert.pem");
        liveKey = join(dir, "key.pem");
        return { http: { tls_cert_path: liveCert, tls_key_path: liveKey, header_timeout: HEADER_TIMEOUT } };
      },
    });
  });

  after(async () => {
    await t?.shoal.cleanup();
  });

  /** Puts a certificate pair in place, sends SIGHUP, and waits for the log line about it. */
  async function reload(cert: Buffer | string, key: Buffer | string, expect: string): Promise<void> {
    const since = t.shoal.logs.length;
    writeFileSync(liveKey, key);
    writeFileSync(liveCert, cert);
    t.shoal.proc.kill("SIGHUP");
    const line = await t.shoal.waitForLog(
      (l) =>
        l.msg === "TLS certificate reloaded" ||
        l.msg === "TLS reload failed; keeping the previous certificate",
      LOG_TIMEOUT,
      since,
    );
    assert.equal(line.msg, expect, JSON.stringify(line));
  }

  test("the listening line says https is on", () => {
    assert.equal(t.https, true);
    assert.equal(t.http.length, 2);
  });

  for (const family of [4, 6] as const) {
    test(`an announce over HTTPS on IPv${family} is answered, under the configured certificate`, async () => {
      const e = t.endpoint(family);
      const hash = randomHash();
      const p = { infoHash: hash, peerId: randomPeerId(), port: 6881 };
      await announce(e, p, { tls: true });
      const r = await httpGet(e, announcePath({ ...p, peerId: randomPeerId(), port: 6882 }), { tls: true });
      assert.equal(r.status, 200);
      const a = readAnnounce(r.body);
      assert.equal(a.incomplete, 2);
      assert.equal((r.socket as tls.TLSSocket).getPeerCertificate().fingerprint256, currentFingerprint());
    });
  }

  test("keep-alive and pipelining work over TLS", async (tc) => {
    const c = await RawHttpClient.connect(t.http4, { tls: {}, owner: tc });
    const answers = [c.next(), c.next(), c.next()];
    c.write(rawGet(scrapePath([randomHash()])) + rawGet("/nowhere") + rawGet(scrapePath([randomHash()])));
    const got = await Promise.all(answers);
    assert.deepEqual(
      got.map((r) => r.status),
      [200, 404, 200],
    );
    assert.deepEqual(
      got.map((r) => r.headers.connection),
      ["keep-alive", "keep-alive", "keep-alive"],
    );
  });

  test("plain HTTP sent to the HTTPS port gets no tracker answer", async (tc) => {
    const c = await RawHttpClient.connect(t.http4, { owner: tc });
    const answer = c.next({ timeoutMs: 5000 }).then(
      (r) => r.status,
      () => "no answer",
    );
    c.write(rawGet(scrapePath([randomHash()])));
    assert.notEqual(await answer, 200);
  });

  for (const family of [4, 6] as const) {
    test(`a TCP connection to the HTTPS port on IPv${family} that never starts a handshake is closed`, async (tc) => {
      const c = await RawHttpClient.connect(t.endpoint(family), { owner: tc });
      await c.waitClosed(CLOSE_BOUND_MS);
    });

    test(`a TLS client on IPv${family} that trickles an unfinished head is cut off with 408`, async (tc) => {
      const c = await RawHttpClient.connect(t.endpoint(family), { tls: {}, owner: tc });
      c.write("GET /announce?info_hash=");
      const timer = setInterval(() => {
        if (!c.write("a")) clearInterval(timer);
      }, 200);
      tc.after(() => clearInterval(timer));
      const r = await c.next({ timeoutMs: CLOSE_BOUND_MS });
      assert.equal(r.status, 408);
      await c.waitClosed(CLOSE_BOUND_MS);
    });
  }

  test("after the files are replaced and SIGHUP sent, new connections get the new certificate", async () => {
    const before = await servedFingerprint(t.http4);
    assert.equal(before, first.fingerprint);
    // A connection opened before the reload keeps working after it.
    const old = await RawHttpClient.connect(t.http6, { tls: {} });
    try {
      const second = makeCert(certDir, "second");
      assert.notEqual(second.fingerprint, first.fingerprint);
      await reload(readFileSync(second.certPath), readFileSync(second.keyPath), "TLS certificate reloaded");
      current = second;
      for (const e of t.http) {
        assert.equal(await servedFingerprint(e), second.fingerprint, `IPv${e.family} without SNI`);
        assert.equal(await servedFingerprint(e, "localhost"), second.fingerprint, `IPv${e.family} with SNI`);
      }
      const r = await old.request(rawGet(scrapePath([randomHash()])));
      assert.equal(r.status, 200, "a connection from before the reload is still served");
      assert.equal((old.socket as tls.TLSSocket).getPeerCertificate().fingerprint256, first.fingerprint);
    } finally {
      old.destroy();
    }
  });

  test("a certificate file that is not PEM is refused on SIGHUP and the previous certificate stays", async () => {
    const kept = currentFingerprint();
    const keyNow = readFileSync(liveKey);
    await reload(
      "this is not a certificate\n",
      keyNow,
      "TLS reload failed; keeping the previous certificate",
    );
    for (const e of t.http) {
      assert.equal(await servedFingerprint(e), kept, `IPv${e.family}`);
      assert.equal(await servedFingerprint(e, "localhost"), kept, `IPv${e.family} with SNI`);
    }
    const a = await announce(
      t.http4,
      { infoHash: randomHash(), peerId: randomPeerId(), port: 6883 },
      { tls: true },
    );
    assert.equal(a.incomplete, 1);
  });

  test("a certificate with a key that does not match is refused on SIGHUP and the previous certificate stays", async () => {
    const kept = currentFingerprint();
    const a = makeCert(certDir, "mismatch-a");
    const b = makeCert(certDir, "mismatch-b");
    await reload(
      readFileSync(a.certPath),
      readFileSync(b.keyPath),
      "TLS reload failed; keeping the previous certificate",
    );
    for (const e of t.http) assert.equal(await servedFingerprint(e), kept, `IPv${e.family}`);
  });

  test("a good pair after a failed reload is taken", async () => {
    const third = makeCert(certDir, "third");
    const failed = t.shoal.logs.filter(
      (l) => l.msg === "TLS reload failed; keeping the previous certificate",
    );
    assert.ok(failed.length >= 1, "the previous tests logged failures");
    await reload(readFileSync(third.certPath), readFileSync(third.keyPath), "TLS certificate reloaded");
    current = third;
    for (const e of t.http) assert.equal(await servedFingerprint(e), third.fingerprint, `IPv${e.family}`);
  });
});
