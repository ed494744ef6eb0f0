// GET /health: whether every configured listener is up, for a load balancer or a watchdog.

export interface Listener {
  protocol: "udp" | "http" | "https";
  address: string;
  up: boolean;
}

export interface Health {
  status: 200 | 503;
  body: { status: "ok" | "unavailable"; failed: string[]; listeners: Listener[] };
}

export function health(listeners: readonly Listener[]): Health {
  const failed = listeners.filter((l) => !l.up).map((l) => `${l.protocol} ${l.address}`);
  return {
    status: failed.length === 0 ? 200 : 503,
    body: { status: failed.length === 0 ? "ok" : "unavailable", failed, listeners: [...listeners] },
  };
}
