#!/usr/bin/env python3
"""What SQLite itself charges per prediction for three layouts of the prediction log.

The writer's cost per record (crates/store/benches/prediction_log.rs) did not move when
the tensors were emptied or an index dropped: it is SQLite's per-row work. This script
measures that work through Python's sqlite3 (the same library, without sqlx), on the
settings Bascule uses (WAL, synchronous=NORMAL, temp_store=MEMORY), 500 records per
transaction, 800,000 records per layout:

  rows      today's table: one row per prediction, indexes (name, id) and (request_id);
  segments  one row per batch of a (model, version, role) holding the batch's columns
            as one blob (about 200 bytes a record);
  segments + request index
            the same, plus a narrow WITHOUT ROWID table (name, request_id, segment), the
            index labels need to find their prediction.

Python's own work (building the tuples) is included, so the figures are upper bounds.

    python3 scripts/bench_log_layouts.py
"""
import os
import sqlite3
import tempfile
import time

BATCH = 500
BATCHES = 1600
INPUTS = '[{"name":"input","shape":[1,30],"datatype":"FP32","le":"' + "A" * 160 + '"}]'
OUTPUTS = ('[{"name":"label","shape":[1],"datatype":"INT64","le":"AAAAAAAAAAA="},'
           '{"name":"probabilities","shape":[1,2],"datatype":"FP32","le":"AACAPgAAQD8="}]')


def connect(path):
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA temp_store=MEMORY")
    return db


def request_id(n):
    return f"3f9a1c07d2e4-{n:x}"  # as the server makes them: a prefix and a counter


def rows(db):
    db.executescript("""
        CREATE TABLE predictions (
            id INTEGER PRIMARY KEY AUTOINCREMENT, request_id TEXT NOT NULL,
            name TEXT NOT NULL, version INTEGER NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('live', 'canary', 'shadow')),
            prediction_time INTEGER NOT NULL, latency_micros INTEGER NOT NULL,
            inputs TEXT NOT NULL, outputs TEXT NOT NULL, error TEXT,
            agrees_with_live INTEGER CHECK (agrees_with_live IN (0, 1)));
        CREATE INDEX predictions_by_model ON predictions (name, id);
        CREATE INDEX predictions_by_request ON predictions (request_id);""")

    def write(first):
        db.executemany(
            "INSERT INTO predictions (request_id, name, version, role, prediction_time, "
            "latency_micros, inputs, outputs, error, agrees_with_live) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(request_id(n), "bc", 1, "live", 1_790_000_000_000 + n, 4, INPUTS, OUTPUTS,
              None, None) for n in range(first, first + BATCH)])
    return write


def segments(with_requests):
    def layout(db):
        db.executescript("""
            CREATE TABLE prediction_segments (
                id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL,
                version INTEGER NOT NULL, role TEXT NOT NULL, first_id INTEGER NOT NULL,
                n INTEGER NOT NULL, first_time INTEGER NOT NULL, last_time INTEGER NOT NULL,
                body BLOB NOT NULL);
            CREATE INDEX segments_by_model ON prediction_segments (name, version, role, id);
            CREATE TABLE prediction_requests (
                name TEXT NOT NULL, request_id TEXT NOT NULL, segment INTEGER NOT NULL,
                PRIMARY KEY (name, request_id, segment)) WITHOUT ROWID;""")
        body = os.urandom(BATCH * 200)

        def write(first):
            cursor = db.execute(
                "INSERT INTO prediction_segments (name, version, role, first_id, n, "
                "first_time, last_time, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                ("bc", 1, "live", first, BATCH, first, first + BATCH, body))
            if with_requests:
                db.executemany(
                    "INSERT INTO prediction_requests VALUES (?, ?, ?)",
                    [("bc", request_id(n), cursor.lastrowid)
                     for n in range(first, first + BATCH)])
        return write
    return layout


def measure(label, layout):
    with tempfile.TemporaryDirectory() as tmp:
        db = connect(os.path.join(tmp, "log.db"))
        write = layout(db)
        cpu, wall = time.process_time(), time.perf_counter()
        for batch in range(BATCHES):
            db.execute("BEGIN IMMEDIATE")
            write(batch * BATCH)
            db.execute("COMMIT")
        n = BATCHES * BATCH
        cpu = (time.process_time() - cpu) / n * 1e6
        wall = (time.perf_counter() - wall) / n * 1e6
        size = sum(os.path.getsize(os.path.join(tmp, f)) for f in os.listdir(tmp)) / n
        print(f"{label:28} {cpu:6.2f} µs CPU/record  {wall:6.2f} µs wall/record  "
              f"{size:6.0f} bytes/record on disk")
        db.close()


print(f"SQLite {sqlite3.sqlite_version}, {BATCHES} transactions of {BATCH} records")
measure("rows (today)", rows)
measure("segments", segments(False))
measure("segments + request index", segments(True))
