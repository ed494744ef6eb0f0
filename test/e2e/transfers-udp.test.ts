// Real file transfers between real BitTorrent clients (Debian's python3-libtorrent, aria2 and
// transmission-cli) that can meet only through shoal, announcing to udp://127.0.0.1 (BEP 15).
// What each client can do on loopback, and why a pair runs as it does: lib/clients.ts.

import { test } from "node:test";
import { runTransfer, TEST_TIMEOUT_MS, type TransferCase, transferTitle } from "./lib/transfer.ts";

const CASES: TransferCase[] = [
  { seeder: "libtorrent", downloader: "libtorrent", protocol: "udp", family: 4 },
  { seeder: "aria2", downloader: "transmission", protocol: "udp", family: 4 },
  { seeder: "transmission", downloader: "libtorrent", protocol: "udp", family: 4 },
  { seeder: "libtorrent", downloader: "aria2", protocol: "udp", family: 4 },
];

for (const c of CASES) {
  test(transferTitle(c), { timeout: TEST_TIMEOUT_MS }, async (t) => {
    t.diagnostic(await runTransfer(c));
  });
}
