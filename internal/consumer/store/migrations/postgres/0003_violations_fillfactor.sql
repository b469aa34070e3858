-- Every complete run updates each open violation it saw (last_seen,
-- run_count, miss_count): columns no index holds, so PostgreSQL can update
-- them in place (a heap-only tuple) when the page has room. Leaving 30% of
-- each page free keeps that room; without it each update moves the row to
-- another page and adds an entry to every index.
ALTER TABLE violations SET (fillfactor = 70);
