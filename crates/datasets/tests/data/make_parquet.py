"""Writes the Parquet files the bascule-datasets integration tests read.

Run from anywhere with a Python that has pyarrow and pandas:

    python crates/datasets/tests/data/make_parquet.py

The files are small and deterministic; the tests assert their values literally, so a
change here needs the matching change in tests/it/parquet.rs.
"""

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent


def types_table() -> pa.Table:
    """One column per type the reader maps, each with a missing value."""
    return pa.table(
        {
            "int64": pa.array([1, -2, None, 4, 5, 6], pa.int64()),
            "float32": pa.array([0.5, None, -1.25, 3.0, float("nan"), 6.5], pa.float32()),
            "string": pa.array(["a", "b", None, "a", "", "c"], pa.string()),
            "category": pa.array(["x", "y", "x", None, "z", "y"]).dictionary_encode(),
            "nothing": pa.nulls(6),
            "flag": pa.array([True, False, None, True, True, False], pa.bool_()),
        }
    )


def main() -> None:
    # zstd (not pyarrow's default snappy) and two row groups, so the reader's codec and
    # its dictionary handling across row groups are both exercised.
    pq.write_table(
        types_table(), HERE / "pyarrow_types.parquet", compression="zstd", row_group_size=4
    )

    # pandas stores a non-default index as a column named __index_level_0__.
    frame = pd.DataFrame(
        {"x": [1.5, 2.5, 3.5], "colour": ["red", "green", "red"]}, index=[10, 20, 30]
    )
    frame.to_parquet(HERE / "pandas_index.parquet", engine="pyarrow", compression="snappy")

    # A timestamp column has no numeric or text reading.
    unsupported = pa.table(
        {
            "x": pa.array([1.0, 2.0]),
            "seen_at": pa.array([0, 1_000_000], pa.timestamp("us")),
        }
    )
    pq.write_table(unsupported, HERE / "unsupported.parquet")


if __name__ == "__main__":
    main()
