// Real file transfers between real BitTorrent clients (Debian's python3-libtorrent, aria2 and
// transmission-cli) that can meet only through shoal, announcing to http://127.0.0.1 (BEP 3,
// compact peer lists). What each client can do on loopback: lib/clients.ts.

import { test } from "node:test";
import { runTransfer, TEST_TIMEOUT_MS, type TransferCase, transferTitle } from "./lib/transfer.ts";

const CASES: TransferCase[] = [
  { seeder: "libtorrent", downloader: "libtorrent", protocol: "http", family: 4 },
  { seeder: "aria2", downloader: "libtorrent", protocol: "http", family: 4 },
  { seeder: "libtorrent", downloader: "transmission", protocol: "http", family: 4 },
  { seeder: "transmission", downloader: "aria2", protocol: "http", family: 4 },
];

for (const c of CASES) {
  test(transferTitle(c), { timeout: TEST_TIMEOUT_MS }, async (t) => {
    t.diagnostic(await runTransfer(c));
  });
}
