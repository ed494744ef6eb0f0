// Real file transfers between real BitTorrent clients over IPv6 loopback: the clients announce
// to udp://[::1] or http://[::1] (BEP 7: shoal answers an IPv6 announcer with IPv6 peers) and
// connect to each other on [::1]. Transmission 3.00 and aria2 1.36 cannot announce over UDP on
// IPv6 loopback (lib/clients.ts says why), so they use http://[::1].

import { test } from "node:test";
import { runTransfer, TEST_TIMEOUT_MS, type TransferCase, transferTitle } from "./lib/transfer.ts";

const CASES: TransferCase[] = [
  { seeder: "libtorrent", downloader: "libtorrent", protocol: "udp", family: 6 },
  { seeder: "aria2", downloader: "libtorrent", protocol: "http", family: 6 },
  { seeder: "libtorrent", downloader: "transmission", protocol: "http", family: 6 },
  { seeder: "transmission", downloader: "aria2", protocol: "http", family: 6 },
];

for (const c of CASES) {
  test(transferTitle(c), { timeout: TEST_TIMEOUT_MS }, async (t) => {
    t.diagnostic(await runTransfer(c));
  });
}
