// Download counts survive restarts through a small binary snapshot:
//   "SHOALSN1" | u32 count | count × (20-byte info hash, f64 downloaded) | u32 CRC-32 of all before
// It is written to a temporary file, flushed and renamed over the old one, so a crash leaves
// either the old snapshot or the new one, never half of one.

import { open, readFile, rename, unlink } from "node:fs/promises";
import { crc32 } from "node:zlib";
import type { SwarmStore } from "./swarm-store.ts";

const MAGIC = Buffer.from("SHOALSN1", "latin1");
const RECORD = 28;

export function encodeSnapshot(entries: Iterable<[string, number]>): Buffer {
  const records: Buffer[] = [];
  let count = 0;
  for (const [hash, downloaded] of entries) {
    const r = Buffer.allocUnsafe(RECORD);
    r.write(hash, 0, 20, "latin1");
    r.writeDoubleBE(downloaded, 20);
    records.push(r);
    count++;
  }
  const head = Buffer.alloc(12);
  MAGIC.copy(head, 0);
  head.writeUInt32BE(count, 8);
  const body = Buffer.concat([head, ...records]);
  const tail = Buffer.alloc(4);
  tail.writeUInt32BE(crc32(body), 0);
  return Buffer.concat([body, tail]);
}

/** Decodes a snapshot; throws an Error saying what is wrong with it. */
export function decodeSnapshot(data: Buffer): [string, number][] {
  if (data.length < 16 || !data.subarray(0, 8).equals(MAGIC)) throw new Error("not a shoal snapshot");
  const count = data.readUInt32BE(8);
  if (data.length !== 12 + count * RECORD + 4) {
    throw new Error(
      `truncated or oversized: ${count} records need ${16 + count * RECORD} bytes, file has ${data.length}`,
    );
  }
  const body = data.subarray(0, data.length - 4);
  if (crc32(body) !== data.readUInt32BE(data.length - 4)) throw new Error("checksum mismatch");
  const out: [string, number][] = [];
  for (let i = 0, o = 12; i < count; i++, o += RECORD) {
    const downloaded = data.readDoubleBE(o + 20);
    if (!Number.isSafeInteger(downloaded) || downloaded < 0) throw new Error(`record ${i}: bad count`);
    out.push([data.toString("latin1", o, o + 20), downloaded]);
  }
  return out;
}

export async function writeSnapshot(path: string, store: SwarmStore): Promise<number> {
  const data = encodeSnapshot(store.downloadCounts());
  const tmp = `${path}.${process.pid}.tmp`;
  const fh = await open(tmp, "w");
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
  return (data.length - 16) / RECORD;
}

export type SnapshotLoad =
  | { status: "loaded"; torrents: number }
  | { status: "missing" }
  | { status: "corrupt"; problem: string };

export async function loadSnapshot(path: string, store: SwarmStore): Promise<SnapshotLoad> {
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { status: "missing" };
    return { status: "corrupt", problem: (err as Error).message };
  }
  let entries: [string, number][];
  try {
    entries = decodeSnapshot(data);
  } catch (err) {
    return { status: "corrupt", problem: (err as Error).message };
  }
  for (const [hash, downloaded] of entries) store.restoreDownloads(hash, downloaded);
  return { status: "loaded", torrents: entries.length };
}
