-- Run search on a metric reads its runs from one index: the key, then only numbers that
-- are not NaN (every metric clause says `is_nan = 0`), then the value, then the run. A
-- filter is a range of it and an order on the filtered metric is its order, so a page of
-- the best runs is read from the top of the range without sorting every match, and
-- without visiting the table (the run id is in the index). ../postgres holds the same.
DROP INDEX latest_metrics_by_key_value;
CREATE INDEX latest_metrics_by_key_value ON latest_metrics (key, is_nan, value, run_uuid);
