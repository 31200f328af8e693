"""Local Jira Cloud, Zendesk and Freshdesk ticket APIs, as their REST references describe them.

Jira (REST v2): `POST /rest/api/2/issue` -> 201 `{"id","key","self"}`, 400 `{"errorMessages":[],"errors":{field: msg}}`,
401 without valid basic auth; `GET /rest/api/2/search?jql=labels = "x"` -> `{"startAt","maxResults","total",
"issues"}`; `GET|POST /rest/api/2/issue/KEY/transitions` (204 on POST). Zendesk: `POST /api/v2/tickets.json`
-> 201 `{"ticket": {...}}`, `GET /api/v2/tickets.json?external_id=` -> `{"tickets": [...]}`, `PUT
/api/v2/tickets/ID.json`. Freshdesk: `POST /api/v2/tickets` -> 201, `GET /api/v2/search/tickets?query=` ->
`{"results","total"}`, `PUT /api/v2/tickets/ID`. `create_delay` answers a create only after the ticket exists
(the window a kill -9 lands in); `faults` are (status, headers) answered to the next requests.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from typing import Any
from urllib.parse import parse_qs

from .server import LocalServer, Reply, Request

JSON = {"Content-Type": "application/json;charset=UTF-8"}


class FakeTickets(LocalServer):
    def __init__(self, user: str, token: str, create_delay: float = 0.0):
        super().__init__(self._serve)
        self.user, self.token = user, token
        self.create_delay = create_delay
        self.issues: list[dict[str, Any]] = []        # Jira
        self.tickets: list[dict[str, Any]] = []       # Zendesk and Freshdesk
        self.transitions: list[tuple[str, str]] = []
        self.faults: list[tuple[int, dict[str, str]]] = []
        self._lock = threading.Lock()

    def _auth(self, req: Request, expected: str) -> bool:
        got = req.headers.get("authorization", "")
        return got == "Basic " + base64.b64encode(expected.encode()).decode()

    def _serve(self, req: Request) -> Reply:
        if self.faults:
            status, headers = self.faults.pop(0)
            return Reply(status, b'{"errorMessages":["try again"]}', {**JSON, **headers})
        q = {k: v[-1] for k, v in parse_qs(req.query).items()}
        if req.path.startswith("/rest/api/2/"):
            if not self._auth(req, f"{self.user}:{self.token}"):
                return Reply(401, b'{"errorMessages":["You are not authenticated."],"errors":{}}', JSON)
            return self._jira(req, q)
        if req.path.startswith("/api/v2/tickets") and req.path.endswith(".json") or req.path == "/api/v2/tickets.json":
            if not self._auth(req, f"{self.user}/token:{self.token}"):
                return Reply(401, b'{"error":"Couldn\'t authenticate you"}', JSON)
            return self._zendesk(req, q)
        if req.path.startswith("/api/v2/"):
            if not self._auth(req, f"{self.token}:X"):
                return Reply(401, b'{"code":"invalid_credentials","message":"You have to be logged in"}', JSON)
            return self._freshdesk(req, q)
        return Reply(404, b'{"errorMessages":["not found"]}', JSON)

    # -- Jira ---------------------------------------------------------------------------------------------
    def _jira(self, req: Request, q: dict[str, str]) -> Reply:
        if req.method == "POST" and req.path == "/rest/api/2/issue":
            fields = (json.loads(req.body or b"{}") or {}).get("fields") or {}
            errors = {k: f"{k} is required." for k in ("summary", "project", "issuetype") if not fields.get(k)}
            if errors:
                return Reply(400, json.dumps({"errorMessages": [], "errors": errors}).encode(), JSON)
            with self._lock:
                n = len(self.issues) + 1
                key = f"{fields['project']['key']}-{n}"
                issue = {"id": str(10000 + n), "key": key, "self": f"{self.url}/rest/api/2/issue/{10000 + n}",
                         "fields": fields, "status": "To Do"}
                self.issues.append(issue)
            if self.create_delay:
                time.sleep(self.create_delay)          # created, not yet answered
            return Reply(201, json.dumps({k: issue[k] for k in ("id", "key", "self")}).encode(), JSON)
        if req.method == "GET" and req.path == "/rest/api/2/search":
            m = re.fullmatch(r'labels\s*=\s*"([^"]+)"', q.get("jql", "").strip())
            if not m:
                return Reply(400, b'{"errorMessages":["Error in the JQL Query"],"errors":{}}', JSON)
            found = [i for i in self.issues if m.group(1) in (i["fields"].get("labels") or [])]
            return Reply(200, json.dumps({"startAt": 0, "maxResults": int(q.get("maxResults", 50)), "total": len(found),
                                          "issues": [{"id": i["id"], "key": i["key"], "self": i["self"], "fields": {}}
                                                     for i in found]}).encode(), JSON)
        m = re.fullmatch(r"/rest/api/2/issue/([A-Z]+-\d+)/transitions", req.path)
        if m:
            issue = next((i for i in self.issues if i["key"] == m.group(1)), None)
            if issue is None:
                return Reply(404, b'{"errorMessages":["Issue does not exist or you do not have permission to see it."],'
                                  b'"errors":{}}', JSON)
            if req.method == "GET":
                return Reply(200, json.dumps({"expand": "transitions", "transitions": [
                    {"id": "11", "name": "To Do"}, {"id": "21", "name": "In Progress"},
                    {"id": "31", "name": "Done"}]}).encode(), JSON)
            tid = ((json.loads(req.body or b"{}") or {}).get("transition") or {}).get("id")
            if tid not in ("11", "21", "31"):
                return Reply(400, b'{"errorMessages":["Transition id is not valid"],"errors":{}}', JSON)
            issue["status"] = {"11": "To Do", "21": "In Progress", "31": "Done"}[tid]
            self.transitions.append((issue["key"], tid))
            return Reply(204, b"", {})
        return Reply(404, b'{"errorMessages":["not found"],"errors":{}}', JSON)

    # -- Zendesk ------------------------------------------------------------------------------------------
    def _zendesk(self, req: Request, q: dict[str, str]) -> Reply:
        if req.path == "/api/v2/tickets.json" and req.method == "POST":
            t = (json.loads(req.body or b"{}") or {}).get("ticket") or {}
            if not t.get("comment"):
                return Reply(422, b'{"error":"RecordInvalid","description":"Record validation errors"}', JSON)
            with self._lock:
                ticket = {"id": 35435 + len(self.tickets) + 1, "status": "new", **t}
                self.tickets.append(ticket)
            return Reply(201, json.dumps({"ticket": ticket}).encode(), JSON)
        if req.path == "/api/v2/tickets.json" and req.method == "GET":
            found = [t for t in self.tickets if t.get("external_id") == q.get("external_id")]
            return Reply(200, json.dumps({"tickets": found, "count": len(found)}).encode(), JSON)
        m = re.fullmatch(r"/api/v2/tickets/(\d+)\.json", req.path)
        if m and req.method == "PUT":
            t = next((t for t in self.tickets if t["id"] == int(m.group(1))), None)
            if t is None:
                return Reply(404, b'{"error":"RecordNotFound","description":"Not found"}', JSON)
            t.update((json.loads(req.body or b"{}") or {}).get("ticket") or {})
            return Reply(200, json.dumps({"ticket": t}).encode(), JSON)
        return Reply(404, b'{"error":"InvalidEndpoint"}', JSON)

    # -- Freshdesk ----------------------------------------------------------------------------------------
    def _freshdesk(self, req: Request, q: dict[str, str]) -> Reply:
        if req.path == "/api/v2/tickets" and req.method == "POST":
            t = json.loads(req.body or b"{}") or {}
            missing = [f for f in ("subject", "description", "email") if not t.get(f)]
            if missing:
                return Reply(400, json.dumps({"description": "Validation failed", "errors": [
                    {"field": f, "message": "It should not be blank", "code": "missing_field"} for f in missing]}).encode(), JSON)
            with self._lock:
                ticket = {"id": len(self.tickets) + 1, **t}
                self.tickets.append(ticket)
            return Reply(201, json.dumps(ticket).encode(), JSON)
        if req.path == "/api/v2/search/tickets" and req.method == "GET":
            m = re.fullmatch(r"\"tag:'([^']+)'\"", q.get("query", ""))
            found = [t for t in self.tickets if m and m.group(1) in (t.get("tags") or [])]
            return Reply(200, json.dumps({"results": found, "total": len(found)}).encode(), JSON)
        m = re.fullmatch(r"/api/v2/tickets/(\d+)", req.path)
        if m and req.method == "PUT":
            t = next((t for t in self.tickets if t["id"] == int(m.group(1))), None)
            if t is None:
                return Reply(404, b'{"code":"access_denied"}', JSON)
            t.update(json.loads(req.body or b"{}") or {})
            return Reply(200, json.dumps(t).encode(), JSON)
        return Reply(404, b'{"code":"invalid_url"}', JSON)
