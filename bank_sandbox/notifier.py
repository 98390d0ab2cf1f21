"""Outgoing notifications (webhooks) with retries, faults and a persistent queue.

A bank module enqueues a fully built (and signed) payload inside a state transaction;
a background thread POSTs it as JSON.  Success criterion per item (``expect``):
``"OK"`` = HTTP 200 with body exactly ``OK`` (T-Bank acquiring), ``"2xx"`` = any 2xx.
Failed attempts are retried every ``interval`` seconds up to ``max_attempts``; then the
item moves to ``given_up``.  Every attempt is written to the delivery log.
"""

from __future__ import annotations

import copy
import http.client
import json
import threading
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timezone
from collections.abc import Callable

from .faults import draw

LOG_LIMIT = 2000
NOTIFY_RATES = ("duplicate_rate", "reorder_rate", "drop_rate")
GIVEN_UP_LIMIT = 500
BODY_EXCERPT = 200


def iso_now(ts: float | None = None) -> str:
    return datetime.fromtimestamp(time.time() if ts is None else ts, timezone.utc).isoformat(timespec="milliseconds")


def safe_url(url: str) -> str:
    """URL without query string / credentials, for logs."""
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))
    except ValueError:
        return "<bad url>"


class Notifier:
    def __init__(
        self,
        store,
        faults,
        *,
        interval: float = 5.0,
        max_attempts: int = 50,
        timeout: float = 10.0,
        hold_seconds: float | None = None,
        log: Callable[[str], None] | None = None,
    ):
        self.store = store
        self.faults = faults
        self.interval = max(float(interval), 0.01)
        self.max_attempts = max(int(max_attempts), 1)
        self.timeout = float(timeout)
        self.hold_seconds = self.interval if hold_seconds is None else float(hold_seconds)
        self._log = log or (lambda line: None)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._deliver_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        # Pending deliveries found on disk resume right away after a restart.
        with self.store.change() as data:
            now = time.time()
            for item in self._section(data)["pending"]:
                item["next_at"] = min(item.get("next_at", now), now)
                item["enqueued_at"] = now

    # -- state helpers ----------------------------------------------------------
    LOG = "notification_log"
    GIVEN_UP = "notification_given_up"
    # per notification key (a payment): what the faults did to its notifications
    FAULT_RECORDS = "notification_faults"

    @staticmethod
    def _section(data: dict) -> dict:
        section = data.setdefault("notifications", {})
        section.setdefault("pending", [])
        return section

    def _append_capped(self, data: dict, name: str, entry: dict, limit: int) -> None:
        records = self.store.collection(name)
        key = str(self.store.next_id(name))
        records[key] = entry
        self.store.touch(name, key)
        while len(records) > limit:
            oldest = next(iter(records))
            del records[oldest]
            self.store.touch(name, oldest)

    def _append_log(self, data: dict, entry: dict) -> None:
        self._append_capped(data, self.LOG, entry, LOG_LIMIT)

    # -- API for bank modules -----------------------------------------------------
    def enqueue(
        self,
        data: dict,
        *,
        bank: str,
        key: str,
        url: str | None,
        payload: dict,
        meta: dict | None = None,
        expect: str = "OK",
        headers: dict | None = None,
        raw: str | None = None,
        max_attempts: int | None = None,
        interval: float | None = None,
    ) -> dict | None:
        """Queue one notification. Call inside ``store.change()`` and pass its ``data``.
        ``raw`` (text/plain) replaces the JSON ``payload``; ``headers`` are added to the
        request; ``max_attempts``/``interval`` are the bank's own retry policy."""
        meta = dict(meta or {})
        section = self._section(data)
        counters = data.setdefault("counters", {})
        counters["notification"] = nid = int(counters.get("notification", 0)) + 1
        now = time.time()
        faults = data.get("faults", {})
        base = {"time": iso_now(now), "notification_id": nid, "bank": bank, "key": key, "meta": meta, "url": url}
        if not url:
            self._append_log(
                data,
                {**base, "event": "no_url", "ok": False, "error": "no NotificationURL for this payment or terminal"},
            )
            return None
        seed = int(faults.get("seed", 0) or 0)
        record = self._fault_record(data, key, meta, faults)
        sequence = record["notifications"] if record is not None else 0
        status = meta.get("Status", "")
        if faults.get("drop") or draw(seed, "drop", key, status, sequence) < float(faults.get("drop_rate", 0) or 0):
            self._append_log(data, {**base, "event": "dropped", "ok": False, "error": "drop fault"})
            self._log(f"notify #{nid} {meta} dropped (fault)")
            self._note_fault(key, record, "dropped", status)
            return None
        copies = max(int(faults.get("duplicate", 0) or 0), 1)
        if copies == 1 and draw(seed, "duplicate", key, status, sequence) < float(faults.get("duplicate_rate", 0) or 0):
            copies = 2
        if copies > 1:
            self._note_fault(key, record, "duplicated", status)
        # reordering is drawn per payment: all its notifications are held together
        reorder = draw(seed, "reorder", key) < float(faults.get("reorder_rate", 0) or 0)
        item = {
            "id": nid,
            "bank": bank,
            "key": key,
            "meta": meta,
            "url": url,
            "payload": payload,
            "expect": expect,
            "attempts": 0,
            "delivered": 0,
            "copies": copies,
            "held": bool(faults.get("out_of_order")) or reorder,
            "reorder": reorder,
            "created": iso_now(now),
            "headers": dict(headers or {}),
            "raw": raw,
            "max_attempts": max_attempts,
            "interval": interval,
            "enqueued_at": now,
            "next_at": now,
        }
        section["pending"].append(item)
        self._wake.set()
        return item

    def wake(self) -> None:
        self._wake.set()

    # -- what the faults did, per payment --------------------------------------------------
    def _fault_record(self, data: dict, key: str, meta: dict, faults: dict) -> dict | None:
        """The fault record of `key`, its notification counted, while notification faults
        are on (else None: nothing is written for a sandbox without faults)."""
        if not any(faults.get(name) for name in ("drop", "duplicate", "out_of_order", *NOTIFY_RATES)):
            return None
        records = self.store.collection(self.FAULT_RECORDS)
        record = records.setdefault(
            key,
            {"meta": {k: meta[k] for k in ("PaymentId", "OrderId") if k in meta}, "notifications": 0},
        )
        record["notifications"] += 1
        self.store.touch(self.FAULT_RECORDS, key)
        return record

    def _note_fault(self, key: str, record: dict | None, fault: str, *statuses: str) -> None:
        if record is None:
            records = self.store.collection(self.FAULT_RECORDS)
            record = records.setdefault(key, {"meta": {}, "notifications": 0})
        record.setdefault(fault, []).extend(statuses)
        self.store.touch(self.FAULT_RECORDS, key)

    def fault_records(self) -> dict:
        """{key: {"meta", "notifications", "duplicated"?, "reordered"?, "dropped"?}}: the
        statuses each fault hit, per payment (reordered: in the order they were sent)."""
        with self.store.read():
            return copy.deepcopy(self.store.collection(self.FAULT_RECORDS))

    # -- views --------------------------------------------------------------------------
    def pending(self) -> list:
        return self.store.snapshot(lambda d: self._section(d)["pending"])

    def delivery_log(self) -> list:
        with self.store.read():
            return copy.deepcopy(list(self.store.collection(self.LOG).values()))

    def given_up(self) -> list:
        with self.store.read():
            return copy.deepcopy(list(self.store.collection(self.GIVEN_UP).values()))

    # -- worker ------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="bank-sandbox-notifier", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=self.timeout + 2)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_pass()
            except Exception:  # never let the worker die
                self._log("notifier error: " + traceback.format_exc().strip().replace("\n", " | "))
            self._wake.wait(self._next_wakeup())
            self._wake.clear()

    def _next_wakeup(self) -> float:
        now = time.time()
        soonest = 1.0
        with self.store.read() as data:
            for item in self._section(data)["pending"]:
                due = item["enqueued_at"] + self.hold_seconds if item.get("held") else item["next_at"]
                soonest = min(soonest, due - now)
        return min(max(soonest, 0.005), 1.0)

    def flush(self) -> list:
        """Deliver everything pending now (held items released, retries not awaited)."""
        return self.run_pass(force=True)

    def run_pass(self, force: bool = False) -> list:
        results: list = []
        with self._deliver_lock:
            now = time.time()
            with self.store.change() as data:
                self._release_held(data, now, force)
                due = [
                    copy.deepcopy(item)
                    for item in self._section(data)["pending"]
                    if not item.get("held") and (force or item["next_at"] <= now)
                ]
            for item in due:
                if self._stop.is_set() and not force:
                    break
                results.extend(self._deliver(item))
        return results

    def _release_held(self, data: dict, now: float, force: bool) -> None:
        pending = self._section(data)["pending"]
        out_of_order_on = bool(data.get("faults", {}).get("out_of_order"))
        groups: dict[str, list[int]] = {}
        for index, item in enumerate(pending):
            if item.get("held"):
                groups.setdefault(item["key"], []).append(index)
        for key, indexes in groups.items():
            # held by the fault `out_of_order` (while it is on) or by `reorder_rate`
            reordering = out_of_order_on or any(pending[i].get("reorder") for i in indexes)
            newest = max(pending[i]["enqueued_at"] for i in indexes)
            if not (force or not reordering or now - newest >= self.hold_seconds):
                continue
            items = [pending[i] for i in indexes]
            for i, item in zip(indexes, reversed(items)):
                item["held"] = False
                item["next_at"] = min(item["next_at"], now)
                pending[i] = item
            if len(items) > 1:
                records = self.store.collection(self.FAULT_RECORDS)
                self._note_fault(
                    key, records.get(key), "reordered", *(item["meta"].get("Status", "") for item in reversed(items))
                )

    def _post(
        self, url: str, payload: dict, headers: dict | None = None, raw: str | None = None
    ) -> tuple[int | None, str, str | None]:
        if raw is not None:
            body, content_type = raw.encode("utf-8"), "text/plain"
        else:
            body, content_type = json.dumps(payload, ensure_ascii=False).encode("utf-8"), "application/json"
        request = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={"Content-Type": content_type, "User-Agent": "bank_sandbox-notifier/1.0", **(headers or {})},
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return response.status, response.read(65536).decode("utf-8", "replace"), None
        except urllib.error.HTTPError as exc:
            try:
                text = exc.read(65536).decode("utf-8", "replace")
            except Exception:
                text = ""
            return exc.code, text, None
        except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            return None, "", f"{type(exc).__name__}: {reason}"

    @staticmethod
    def _is_ok(expect: str, status: int | None, body: str) -> bool:
        if status is None:
            return False
        if expect == "2xx":
            return 200 <= status < 300
        if expect == "200":
            return status == 200
        return status == 200 and body == "OK"

    def _deliver(self, item: dict) -> list:
        results = []
        while True:
            with self.store.read() as data:
                dropped = bool(data.get("faults", {}).get("drop"))
            if dropped:
                with self.store.change() as data:
                    section = self._section(data)
                    before = len(section["pending"])
                    section["pending"] = [p for p in section["pending"] if p["id"] != item["id"]]
                    if len(section["pending"]) != before:
                        entry = {
                            "time": iso_now(),
                            "notification_id": item["id"],
                            "bank": item["bank"],
                            "key": item["key"],
                            "meta": item["meta"],
                            "url": item["url"],
                            "event": "dropped",
                            "ok": False,
                            "error": "drop fault",
                        }
                        self._append_log(data, entry)
                        results.append(entry)
                return results
            sent = time.time()
            status, body, error = self._post(item["url"], item["payload"], item.get("headers"), item.get("raw"))
            ok = self._is_ok(item.get("expect", "OK"), status, body)
            now = time.time()
            with self.store.change() as data:
                section = self._section(data)
                current = next((p for p in section["pending"] if p["id"] == item["id"]), None)
                if current is None:  # reset meanwhile
                    return results
                current["attempts"] += 1
                entry = {
                    "time": iso_now(now),
                    "notification_id": item["id"],
                    "bank": item["bank"],
                    "key": item["key"],
                    "meta": item["meta"],
                    "url": item["url"],
                    "event": "attempt",
                    "sent": iso_now(sent),  # when the request left (`time`: when its answer came)
                    "attempt": current["attempts"],
                    "http_status": status,
                    "body": body[:BODY_EXCERPT],
                    "ok": ok,
                }
                if error:
                    entry["error"] = error
                self._append_log(data, entry)
                results.append(entry)
                finished = False
                if ok:
                    current["delivered"] += 1
                    finished = current["delivered"] >= current["copies"]
                    if finished:
                        section["pending"].remove(current)
                elif current["attempts"] - current["delivered"] >= (current.get("max_attempts") or self.max_attempts):
                    section["pending"].remove(current)
                    current["gave_up_at"] = iso_now(now)
                    self._append_capped(data, self.GIVEN_UP, current, GIVEN_UP_LIMIT)
                    self._append_log(
                        data,
                        {
                            **{k: entry[k] for k in ("notification_id", "bank", "key", "meta", "url")},
                            "time": iso_now(now),
                            "event": "gave_up",
                            "ok": False,
                            "error": f"no OK after {current.get('max_attempts') or self.max_attempts} attempts",
                        },
                    )
                    finished = True
                else:
                    current["next_at"] = now + (current.get("interval") or self.interval)
                    finished = not ok
            shown = f"{status}" if status is not None else error
            self._log(
                f"notify #{item['id']} {item['meta']} -> {safe_url(item['url'])}: {shown}{' OK' if ok else ' not OK'}"
            )
            if finished or not ok:
                return results
