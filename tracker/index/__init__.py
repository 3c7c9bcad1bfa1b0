"""Stage 3, index: per-article narrative scores in, the daily narrative index and its validation out.

Counts of scored and member articles per source and day go in; out come the coverage day
table, each source's usual rate, the daily index with its interval, surprise, spikes and
net stance, the weekly table with movers (``compute``/``model``, pure; ``store`` reads the
counts and writes every figure in one transaction; ``params`` the remembered parameters),
the event study of ``tracker validate`` (``events``, ``study``, ``validate``), and the
narrative dynamics of ``tracker dynamics``: Granger leads, robustness and virality
(``dynamics``, ``dynamics_series``, ``virality``, pure; ``dynamics_store``).
"""
