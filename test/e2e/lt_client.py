#!/usr/bin/python3
"""A libtorrent (Debian's python3-libtorrent) peer for shoal's end-to-end transfer tests.

Seeds the data already in --save-path, or downloads into it, one torrent whose only tracker is
the one in the .torrent file. DHT, local service discovery, UPnP and NAT-PMP are off and peer
exchange is never loaded, so the tracker is the only way to meet a peer. uTP is off too: on
loopback, uTP against some clients crawls (Transmission) or costs a connect timeout before TCP
is tried (aria2, which has no uTP), and it is not what these tests are about.

Standard output gets one JSON object per line, for the test to read:
  {"event": "listening", "endpoint": "127.0.0.1:40001"}  the peer socket is bound
  {"event": "seeding"}                      the data is all there (checked, or downloaded)
  {"event": "finished"}                     download mode: complete and verified (the files
                                            are closed, hence whole on disk, once it exits)
  {"event": "stopped"}                      after SIGTERM or SIGINT: "stopped" announced,
                                            session closed; then exit 0
  {"event": "fatal", "message": ...}        then exit 1
and, for failure reports, the tracker and peer alerts ("tracker_announce", "tracker_reply",
"tracker_error", "peer", "error", "warning"). Both modes run (seeding) until told to stop.
"""

import argparse
import json
import os
import signal
import sys
import time

import libtorrent as lt

# Seconds a peer told to stop waits for its "stopped" announce to be sent.
STOP_WAIT = 5


def emit(event, **fields):
    fields["event"] = event
    fields["t"] = round(time.monotonic(), 3)
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def fatal(message):
    emit("fatal", message=message)
    sys.exit(1)


def send_stopped(ses, handle):
    """Removes the torrent, which makes libtorrent send the tracker a "stopped" announce, and
    waits (bounded) until it has been sent. libtorrent posts no alert for its answer: the
    session's destructor waits for it instead (up to stop_tracker_timeout)."""
    ses.remove_torrent(handle)
    until = time.monotonic() + STOP_WAIT
    while time.monotonic() < until:
        ses.wait_for_alert(100)
        for a in ses.pop_alerts():
            if type(a).__name__ == "tracker_announce_alert":
                emit("tracker_announce", url=a.tracker_url(), message=a.message())
                if int(a.event) == int(lt.event_t.stopped):
                    return
    emit("warning", message="no stopped announce sent within %d s" % STOP_WAIT)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["seed", "download"], required=True)
    parser.add_argument("--torrent", required=True)
    parser.add_argument("--save-path", required=True)
    parser.add_argument("--listen", required=True,
                        help="address:port to listen on, IPv6 in brackets: [::1]:0 (0: any port)")
    args = parser.parse_args()
    listen_address = args.listen.rsplit(":", 1)[0].strip("[]")

    alert_mask = (
        lt.alert_category.error
        | lt.alert_category.status
        | lt.alert_category.tracker
        | lt.alert_category.connect
        | lt.alert_category.peer
        | lt.alert_category.storage
    )
    settings = {
        "listen_interfaces": args.listen,
        # Peer connections leave from the listening address: the one the tracker saw.
        "outgoing_interfaces": listen_address,
        "max_retry_port_bind": 0,
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "enable_outgoing_utp": False,
        "enable_incoming_utp": False,
        # Every peer of a test is on the same loopback address.
        "allow_multiple_connections_per_ip": True,
        "alert_mask": int(alert_mask),
        # On shutdown libtorrent waits this long for the answer to a "stopped" announce. Over
        # UDP it was seen to wait the whole timeout every time although the announce had gone
        # out at once (the tracker had dropped the peer): keep it short.
        "stop_tracker_timeout": 1,
        "user_agent": "shoal-e2e libtorrent/" + lt.__version__,
    }
    # flags=0: no default plugins, hence no ut_pex (nor ut_metadata: the .torrent is given).
    ses = lt.session(settings, 0)

    try:
        info = lt.torrent_info(args.torrent)
    except RuntimeError as err:
        fatal("cannot read %s: %s" % (args.torrent, err))
    params = lt.add_torrent_params()
    params.ti = info
    params.save_path = args.save_path
    flags = params.flags & ~lt.torrent_flags.auto_managed & ~lt.torrent_flags.paused
    params.flags = flags | lt.torrent_flags.disable_dht | lt.torrent_flags.disable_lsd | lt.torrent_flags.disable_pex
    handle = ses.add_torrent(params)

    stop_requested = False

    def request_stop(signum, frame):
        nonlocal stop_requested
        stop_requested = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    # The test runner started us; if it dies (even by SIGKILL) we are re-parented: leave too.
    parent = os.getppid()

    seeding_since = None
    finished_reported = False
    stop_requested_at = None
    in_flight = 0  # announces sent and not yet answered
    while True:
        ses.wait_for_alert(250)
        for a in ses.pop_alerts():
            kind = type(a).__name__
            if kind == "listen_succeeded_alert":
                if a.socket_type == lt.socket_type_t.tcp:
                    emit("listening", endpoint="%s:%d" % (a.address, a.port))
            elif kind == "listen_failed_alert":
                fatal("cannot listen on %s: %s" % (args.listen, a.message()))
            elif kind == "tracker_announce_alert":
                emit("tracker_announce", url=a.tracker_url(), message=a.message())
                in_flight += 1
            elif kind == "tracker_reply_alert":
                emit("tracker_reply", url=a.tracker_url(), peers=a.num_peers, message=a.message())
                in_flight = max(0, in_flight - 1)
            elif kind == "tracker_error_alert":
                emit("tracker_error", url=a.tracker_url(), message=a.message())
                in_flight = max(0, in_flight - 1)
            elif kind == "tracker_warning_alert":
                emit("tracker_warning", url=a.tracker_url(), message=a.message())
            elif kind in ("peer_connect_alert", "peer_disconnected_alert", "incoming_connection_alert",
                          "peer_error_alert", "peer_blocked_alert"):
                emit("peer", kind=kind, message=a.message())
            elif kind in ("file_error_alert", "torrent_error_alert", "hash_failed_alert"):
                emit("error", kind=kind, message=a.message())

        status = handle.status()
        if status.errc.value() != 0:
            fatal("torrent error: %s" % status.errc.message())
        if args.mode == "seed" and seeding_since is None and status.state in (
            lt.torrent_status.states.downloading,
            lt.torrent_status.states.finished,
        ):
            fatal("the data in %s does not match the torrent (progress %.3f)"
                  % (args.save_path, status.progress))
        if status.is_seeding and seeding_since is None:
            seeding_since = time.monotonic()
            emit("seeding", total_done=status.total_done)

        if args.mode == "download" and seeding_since is not None and not finished_reported:
            # Complete and verified; a downloader goes on seeding until it is stopped.
            handle.flush_cache()
            emit("finished")
            finished_reported = True

        if os.getppid() != parent:
            stop_requested = True
        if stop_requested and stop_requested_at is None:
            stop_requested_at = time.monotonic()
        # A torrent removed while one of its announces is unanswered (a download's "completed"
        # one, a few ms old) was seen to leave without any "stopped" announce (once, over UDP):
        # stop once nothing is in flight, or after STOP_WAIT s.
        if stop_requested and (in_flight == 0 or time.monotonic() > stop_requested_at + STOP_WAIT):
            send_stopped(ses, handle)
            del handle
            del ses  # the destructor: the stopped announce completes, the files are closed
            emit("stopped")
            return 0


if __name__ == "__main__":
    sys.exit(main())
