// Page side of test/e2e/browser-webtorrent.test.ts: one WebTorrent client per page, driven from
// Node through globalThis.shoalE2E. The browser bundle comes from the local npm package (served
// by the test at /webtorrent.min.js, an ES module whose default export is the WebTorrent class).

import WebTorrent from "/webtorrent.min.js";

const events = [];
const note = (what) => {
  events.push(`${(performance.now() / 1000).toFixed(3)}s ${what}`);
};

// No DHT, no local service discovery, no peer exchange, no web seeds: the only way for the two
// pages to find each other is the tracker. No STUN servers either: host candidates are all that
// a loopback transfer needs, and a STUN lookup would try to leave the machine.
const client = new WebTorrent({
  dht: false,
  lsd: false,
  utPex: false,
  webSeeds: false,
  tracker: { rtcConfig: { iceServers: [] } },
});
client.on("error", (err) => note(`client error: ${err?.message ?? err}`));

let current = null;
/** Every wire (peer connection that completed the BitTorrent handshake) this page had. */
const wires = [];

function watch(torrent, role) {
  current = torrent;
  torrent.on("warning", (err) => note(`${role} warning: ${err?.message ?? err}`));
  torrent.on("error", (err) => note(`${role} error: ${err?.message ?? err}`));
  torrent.on("trackerAnnounce", () => note(`${role} tracker announce answered`));
  torrent.on("wire", (wire, addr) => {
    // The addresses of the ICE candidate pair the connection selected, as simple-peer reports
    // them on connect (private fields, read for diagnostics only).
    const conn = [...(torrent._peers?.values() ?? [])].find((p) => p.wire === wire)?.conn;
    const local = conn?.localAddress ? `${conn.localAddress}:${conn.localPort}` : null;
    wires.push({ type: wire.type, local, remote: addr ?? null });
    note(`${role} ${wire.type} wire ${local ?? "?"} -> ${addr ?? "?"}`);
  });
  torrent.on("done", () => note(`${role} done`));
}

/** Fetches the payload from the test's server, seeds it, announcing to `wsUrl` only. */
async function seed(wsUrl) {
  const res = await fetch("/payload.bin", { cache: "no-store" });
  if (!res.ok) throw new Error(`GET /payload.bin: ${res.status}`);
  const file = new File([await res.arrayBuffer()], "payload.bin", { type: "application/octet-stream" });
  // Listeners go on the torrent object at once: events may come before the callback does.
  let torrent;
  await new Promise((resolve, reject) => {
    client.once("error", reject);
    torrent = client.seed(file, { announce: [wsUrl] }, resolve);
    watch(torrent, "seeder");
  });
  return { infoHash: torrent.infoHash, magnetURI: torrent.magnetURI, announce: [...torrent.announce] };
}

/** Adds the magnet link (tracker `wsUrl` only), waits for the whole file, returns it in base64. */
async function download(magnetURI, wsUrl) {
  // The metadata comes from the seeder over the first wire, before the add callback runs.
  let torrent;
  await new Promise((resolve, reject) => {
    client.once("error", reject);
    torrent = client.add(magnetURI, { announce: [wsUrl] }, resolve);
    watch(torrent, "leecher");
  });
  const announce = [...torrent.announce];
  if (!torrent.done) await new Promise((resolve) => torrent.once("done", resolve));
  const bytes = new Uint8Array(await torrent.files[0].arrayBuffer());
  return { announce, length: bytes.length, base64: bytes.toBase64(), status: status() };
}

/** What this page's client is doing, for the test's diagnostics. */
function status() {
  const t = current;
  return {
    events: [...events],
    torrent:
      t === null
        ? null
        : {
            infoHash: t.infoHash,
            progress: t.progress,
            downloaded: t.downloaded,
            uploaded: t.uploaded,
            numPeers: t.numPeers,
            wires: [...wires],
          },
  };
}

globalThis.shoalE2E = { seed, download, status };
note("ready");
