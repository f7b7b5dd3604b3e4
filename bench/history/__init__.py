"""Results over time: runs accumulate in one SQLite file per team or CI job (``store``), each
run reduced to one point per series (``points``); a series is split where it changed
(``changes``), and the newest run is checked against the last stable stretch of each series
(``check``). ``bench.outputs.history_report`` draws the dashboard.

A series is one layer x codec x corpus x metric on one machine: runs on other machines never
enter it, so a faster CI runner does not read as a speed-up."""
