import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { closest, editDistance } from "../../src/config/suggest.ts";

describe("suggestions", () => {
  test("edit distance counts insertions, deletions and substitutions, ignoring case", () => {
    assert.equal(editDistance("ban_window", "ban_window"), 0);
    assert.equal(editDistance("ban_windw", "ban_window"), 1);
    assert.equal(editDistance("ban_windows", "ban_window"), 1);
    assert.equal(editDistance("ban_wimdow", "ban_window"), 1);
    assert.equal(editDistance("Ban_Window", "ban_window"), 0);
    assert.equal(editDistance("", "abc"), 3);
    assert.equal(editDistance("kitten", "sitting"), 3);
  });

  test("closest picks the nearest within two edits, the first on ties", () => {
    const keys = ["announce_interval", "min_announce_interval", "peer_timeout"];
    assert.equal(closest("anounce_intervl", keys), "announce_interval");
    assert.equal(closest("peer_timout", keys), "peer_timeout");
    assert.equal(closest("timeout", keys), undefined);
    assert.equal(closest("ab", ["ac", "ad"]), "ac");
    // Replacing every character is no suggestion at all.
    assert.equal(closest("x", ["y"]), undefined);
  });
});
