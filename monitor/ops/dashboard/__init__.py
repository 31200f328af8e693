"""The comms team's dashboard (`monitor ui`) and the weekly report (`monitor report`, `report:` in config).

Reads everything live through read-only connections; writes nothing itself: feedback clicks go through
alerting's functions (the `feedback`/`alerts` tables stay alerting's), and the one table it owns is `reports`
(one row per weekly report: written before it is sent, marked after). figures: the numbers; charts: their
pictures (matplotlib, server-side); feed: the mention feed and the alerts board; report: the first screen
as HTML, Markdown or PNG; schedule: the weekly run in `monitor run`; web + security: the server.
"""
