"""`monitor ui`: the comms dashboard (Starlette on uvicorn), Datasette for ops under /data.

Why Starlette: uvicorn already serves Datasette here, so the dashboard and /data share one server and one
access check (an ASGI middleware), with Starlette adding only routing and responses (a small, maintained
library). Every request reads through a read-only store (`stores.Stores`: its own connection on SQLite, a shared
read-only pool on PostgreSQL): figures are live and carry the time they were read ("as of"). The only writes are
feedback clicks, made through alerting's functions, as the CLI makes them, on a read-write store
(`lifecycle.transition(..., "not_negative")`, as the Slack button; `feedback.relabel`): both lock the row they
change, so a second click, or the same click on another replica's dashboard, is not recorded twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from monitor.alerting.feedback import relabel
from monitor.alerting.lifecycle import transition
from monitor.config.rules import Rules
from monitor.core.errors import AlertError, StorageError, StorageUnavailable
from monitor.ops.dashboard import feed as feedmod
from monitor.ops.dashboard import pages, report
from monitor.ops.dashboard.figures import SENTIMENTS, Window
from monitor.ops.dashboard.liverules import LiveRules
from monitor.ops.dashboard.period import selected, window_text
from monitor.ops.dashboard.security import (
    CSRF_COOKIE,
    TOKEN_COOKIE,
    Access,
    actor,
    csrf_ok,
    new_csrf,
    page_headers,
    same,
)
from monitor.ops.dashboard.status import HealthReader, data_path
from monitor.ops.dashboard.stores import Stores

log = logging.getLogger(__name__)
COLUMNS = (("open", "Open"), ("held", "Held by quiet hours"), ("acknowledged", "Acknowledged"),
           ("resolved", "Resolved (this period)"))


@dataclass
class Settings:
    db_path: str
    tz: str = "UTC"
    brands: tuple[str, ...] = ()
    rules: Rules | None = None
    token: str | None = None
    user_header: str | None = None
    url: str | None = None
    ack_target: float = report.DEFAULT_ACK_TARGET
    datasette: Any = None                   # the ASGI app mounted at /data, or None
    config: Any = None                      # monitor.yaml (Config): the health strip's `monitor status` report
    rules_path: str | None = None           # rules.yaml, read again when it changes (`liverules`); None: fixed
    data_note: str | None = None            # why /data is not served, said in every page's header (PostgreSQL)


class Dashboard:
    def __init__(self, s: Settings, stores: Stores | None = None):
        self.s = s
        self.stores = stores or Stores(s.db_path)
        self.live_rules = LiveRules(s.rules_path, s.rules)
        self.health = HealthReader(s.config, self.stores.read, self.live_rules, s.tz,
                                   data_path(s.db_path) if s.datasette is not None else None)
        routes = [Route("/", self.index), Route("/feed", self.feed), Route("/alerts", self.alerts),
                  Route("/report", self.report), Route("/report.png", self.report_png),
                  Route("/report.md", self.report_md), Route("/feedback", self.feedback, methods=["POST"]),
                  Route("/login", self.login, methods=["GET", "POST"]), Route("/healthz", self.healthz),
                  Route("/api/health", self.api_health),
                  Route("/static/dashboard.css", self.css)]
        self.starlette = Starlette(routes=routes, exception_handlers={StorageError: self._unavailable})
        self.app = Access(self._dispatch, token=s.token, user_header=s.user_header)

    async def _unavailable(self, req: Request, exc: Exception) -> Response:
        """A store error as a 503 page (`HealthReader.unavailable`); the database not answering also retires the
        PostgreSQL stores, so the next page connects afresh (`Stores.retire`)."""
        if isinstance(exc, StorageUnavailable):
            self.stores.retire()
        return await self.health.unavailable(req, exc)

    def _rules(self) -> tuple[Rules | None, str | None]:
        """rules.yaml as it is now (the last good version when the file is invalid) and why not, if so."""
        rules, problem = self.live_rules.current()
        self.s.rules = rules
        return rules, problem

    async def _dispatch(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if self.s.datasette is not None and (path == "/data" or path.startswith("/data/")):
            await self.s.datasette(scope, receive, send)
        else:
            await self.starlette(scope, receive, send)

    # -- plumbing -------------------------------------------------------------------------------------------
    def _window(self, req: Request, now: float) -> tuple[Window, dict[str, Any]]:
        return selected(req.query_params, now, self.s.tz, self.s.brands)

    def _page(self, req: Request, template: str, now: float, w: Window, sel: dict[str, Any], *,
              live: tuple[Rules | None, str | None] | None = None, held: int | None = None,
              alerts: list[dict[str, Any]] | None = None, **ctx: Any) -> Response:
        """A page with its strip. `live`: the rules the handler already read for its board (one reading of
        rules.yaml per request; None: read here); `held`: the alerts its board placed in "held by quiet hours"
        (the strip's count, so the open alerts are read once per request; None: the strip counts them); `alerts`:
        the open alerts its board read (`feed.open_alerts`), for the status report when its cache is cold."""
        csrf = req.cookies.get(CSRF_COOKIE) or new_csrf()
        notices = list(ctx.pop("notices", []))
        rules, problem = live if live is not None else self._rules()
        if rules is None:
            notices.append("rules.yaml could not be read: alerts held by quiet hours show as open.")
        health_strip = self.health.strip(now, w, sel, (rules, problem), held, alerts)
        html = pages.render(template, as_of=now, tz=self.s.tz, brands=self.s.brands, csrf=csrf, notices=notices,
                            datasette=self.s.datasette is not None, data_note=self.s.data_note,
                            window_text=window_text(w),
                            health=health_strip, **sel, **ctx)
        resp = HTMLResponse(html, headers=page_headers())
        if req.cookies.get(CSRF_COOKIE) != csrf:
            resp.set_cookie(CSRF_COOKIE, csrf, httponly=True, samesite="strict", path="/")
        return resp

    # -- the health strip: `monitor status` on every page (status.HealthReader) --------------------------------
    async def api_health(self, req: Request) -> Response:
        return await _threaded(self._api_health, req)

    def _api_health(self, req: Request) -> Response:
        """The strip as JSON, for the period and brand asked (`?period=`, `?brand=`, as the pages)."""
        now = time.time()
        w, sel = self._window(req, now)
        body = {"as_of": now, **self.health.strip(now, w, sel, self._rules()).as_json()}
        return JSONResponse(body, headers={**page_headers(), "Cache-Control": "no-store"})

    # -- pages ----------------------------------------------------------------------------------------------
    async def index(self, req: Request) -> Response:
        return await _threaded(self._index, req)

    def _index(self, req: Request) -> Response:
        now = time.time()
        w, sel = self._window(req, now)
        live = self._rules()
        with self.stores.read() as store:
            o = report.overview(store, w, now, ack_target=self.s.ack_target, health=False)   # the page has its own
            rows = feedmod.open_alerts(store)
            board = feedmod.board(store, live[0], now, w, open_rows=rows)
        counts = [(col, sum(1 for a in board if a.column == col)) for col, _ in COLUMNS]
        return self._page(req, "index.html", now, w, sel, live=live, held=_held(board), alerts=rows, page="overview", o=o,
                          board_counts=counts)

    async def feed(self, req: Request) -> Response:
        return await _threaded(self._feed, req)

    def _feed(self, req: Request) -> Response:
        now = time.time()
        w, sel = self._window(req, now)
        q = req.query_params
        page = int(q.get("page") or 0) if (q.get("page") or "0").isdigit() else 0
        f = feedmod.Filters(q=(q.get("q") or "")[:200], brand=q.get("brand") or None, source=q.get("source") or None,
                            sentiment=q.get("sentiment") if q.get("sentiment") in SENTIMENTS else None,
                            issue=q.get("issue") or None, language=q.get("language") or None,
                            state=q.get("state") if q.get("state") in feedmod.ALERT_STATES else None, page=min(page, 10_000))
        with self.stores.read() as store:
            rows, more = feedmod.feed(store, w, f)
            facets = feedmod.facets(store, w)
            note = feedmod.search_note(store)
        params = {k: v for k, v in q.items() if k != "page"}
        back = "/feed?" + str(req.url.query)
        return self._page(req, "feed.html", now, w, sel, page="feed", f=f, rows=rows, more=more, facets=facets,
                          sentiments=SENTIMENTS, states=feedmod.ALERT_STATES, params=params,
                          back=back, search_note=note)

    async def alerts(self, req: Request) -> Response:
        return await _threaded(self._alerts, req)

    def _alerts(self, req: Request) -> Response:
        now = time.time()
        w, sel = self._window(req, now)
        live = self._rules()
        with self.stores.read() as store:
            rows = feedmod.open_alerts(store)
            board = feedmod.board(store, live[0], now, w, open_rows=rows)
        by_col: dict[str, list[feedmod.BoardAlert]] = {c: [] for c, _ in COLUMNS}
        for a in board:
            by_col[a.column].append(a)
        return self._page(req, "alerts.html", now, w, sel, live=live, held=_held(board), alerts=rows, page="alerts",
                          columns=COLUMNS, by_col=by_col)

    def _overview(self, req: Request, draw: bool = True, kept: bool = False) -> report.Overview:
        """`kept`: the overview keeps the strip as of now (a file: /report.md); /report shows the live strip."""
        now = time.time()
        w, _ = self._window(req, now)
        with self.stores.read() as store:
            return report.overview(store, w, now, ack_target=self.s.ack_target, draw=draw, health=kept,
                                   config=self.s.config, damage=lambda s: self.health.damage(s, now))

    async def report(self, req: Request) -> Response:
        o = await _threaded(self._overview, req)
        now = time.time()
        w, sel = self._window(req, now)
        h = await _threaded(lambda: self.health.strip(now, w, sel, self._rules()))
        return HTMLResponse(pages.report_html(o, self.s.url, h), headers=page_headers())

    async def report_png(self, req: Request) -> Response:
        o = await _threaded(self._overview, req, False)
        return Response(await _threaded(report.png, o), media_type="image/png")

    async def report_md(self, req: Request) -> Response:
        o = await _threaded(self._overview, req, False, True)
        return PlainTextResponse(report.markdown(o, self.s.url))

    # -- the only writes --------------------------------------------------------------------------------------
    async def feedback(self, req: Request) -> Response:
        form = await _form(req)
        if not csrf_ok(req.scope, form.get("csrf")):
            return PlainTextResponse("refused: this form did not come from this dashboard (CSRF check)", 403)
        label, mention = form.get("label", ""), form.get("mention", "")
        if not mention.isdigit():
            return PlainTextResponse("bad request: mention must be a number", 400)
        who = actor(req.scope, self.s.user_header)
        try:
            msg = await _threaded(self._record, int(mention), label, who)
        except (AlertError, StorageError) as exc:
            return PlainTextResponse(f"not recorded: {exc}", 409)
        log.info("dashboard feedback", extra={"mention_id": int(mention), "label": label, "actor": who,
                                               "result": msg})
        self.health.forget()                 # the next page reads the store as this click left it
        back = form.get("back") or "/feed"
        parts = urlsplit(back)
        if parts.scheme or parts.netloc or not back.startswith("/"):      # no open redirect
            back = "/feed"
        return RedirectResponse(back, status_code=303)

    def _record(self, mention_id: int, label: str, who: str) -> str:
        with self.stores.write() as store:
            if label == "not_negative":
                row = store.one("SELECT a.id FROM alerts a JOIN alert_mentions am ON am.alert_id = a.id"
                                " WHERE am.mention_id = ? AND COALESCE(a.resolution, '') != 'folded'"
                                " ORDER BY a.id DESC LIMIT 1", (mention_id,))
                if row is not None:            # exactly what the Slack button does: resolve + feedback + thread
                    transition(store, row["id"], "not_negative", who)
                    return f"alert #{row['id']} not negative"
            relabel(store, mention_id, label, who)
            return f"mention #{mention_id} {label}"

    async def login(self, req: Request) -> Response:
        nxt = req.query_params.get("next") or "/"
        if req.method == "POST":
            form = await _form(req)
            nxt = form.get("next") or "/"
            if not nxt.startswith("/") or nxt.startswith("//"):
                nxt = "/"
            if self.s.token and same(form.get("token"), self.s.token):
                resp = RedirectResponse(nxt, status_code=303)
                resp.set_cookie(TOKEN_COOKIE, self.s.token, httponly=True, samesite="strict", path="/")
                return resp
            return HTMLResponse(pages.render("login.html", next=nxt, error="That token is not the one configured."),
                                status_code=401, headers=page_headers())
        return HTMLResponse(pages.render("login.html", next=nxt, error=None), headers=page_headers())

    async def healthz(self, req: Request) -> Response:
        return PlainTextResponse("ok")

    async def css(self, req: Request) -> Response:
        return Response(pages.css(), media_type="text/css", headers={"Cache-Control": "max-age=3600"})


def _held(board: list[feedmod.BoardAlert]) -> int:
    """The board's "held by quiet hours" column (`quiet.held_until`, the strip's count): counted from the board,
    not read again, so the page and its strip see the same alerts at the same instant."""
    return sum(a.held_until is not None for a in board)


async def _form(req: Request) -> dict[str, str]:
    """application/x-www-form-urlencoded, parsed here (no multipart dependency); capped at 16 KiB."""
    body = await req.body()
    if len(body) > 16384:
        return {}
    return {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}


async def _threaded(fn: Any, *args: Any) -> Any:
    from starlette.concurrency import run_in_threadpool
    return await run_in_threadpool(fn, *args)
