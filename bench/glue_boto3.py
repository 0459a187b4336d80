#!/usr/bin/python3
"""bench/glue_boto3.py: the baseline of bench/glue.sh's import through glue://.

    /usr/bin/python3 bench/glue_boto3.py --endpoint URL --store DIR [--region R]

Writes the latest snapshot of the metasync store DIR into the caller's Glue
catalog the way the scripts metasync replaces do it: one boto3 client, one
call at a time, create_database for each database, create_table for each
table and view, then batch_create_partition with 100 partitions a call (a
table's partitions in the order the snapshot lists them).  Each snapshot
line's item (the Glue shape in camelCase, as the AWS Glue migration
utility's export writes it) becomes a DatabaseInput, TableInput or
PartitionInput by botocore's own model of the Glue API: members matched by
name, whatever the input shape has no place for (catalogId, createTime,
namespaceName, ...) dropped, map keys kept as they are, timestamps from
epoch milliseconds.

Credentials come from boto3's chain (bench/glue.sh sets the environment's
keys).  Any error, and any per-item error of a batch, ends the run with exit
status 1.  Prints one JSON object: databases, tables, partitions, requests,
seconds (from the first request to the last answer) and the members
dropped (shape.member).
"""
import argparse
import datetime
import glob
import json
import os
import sys
import time

import boto3
import botocore.session

BATCH = 100
# Where the export's name of a member is not the input shape's (Hive's
# Order {column, order} is Glue's {Column, SortOrder}).
ALIASES = {("Order", "order"): "SortOrder"}
DROPPED = set()  # (shape, key) the input shapes have no place for


def convert(shape, value):
    """value (camelCase JSON) as botocore's SHAPE wants it."""
    t = shape.type_name
    if t == "structure":
        members = {m.lower(): m for m in shape.members}
        out = {}
        for k, v in value.items():
            m = members.get(k.lower()) or ALIASES.get((shape.name, k))
            if m is not None:
                out[m] = convert(shape.members[m], v)
            else:
                DROPPED.add("%s.%s" % (shape.name, k))
        return out
    if t == "list":
        return [convert(shape.member, v) for v in value]
    if t == "map":
        return {k: convert(shape.value, v) for k, v in value.items()}
    if t == "timestamp":
        return datetime.datetime.fromtimestamp(int(value) / 1000, datetime.timezone.utc)
    if t in ("integer", "long"):
        return int(value)
    if t == "boolean":
        return value if isinstance(value, bool) else str(value).lower() == "true"
    if t in ("double", "float"):
        return float(value)
    return value


def lines(snapdir, kind):
    for path in sorted(glob.glob(os.path.join(snapdir, kind, "part-*.json"))):
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    yield json.loads(line)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--store", required=True)
    ap.add_argument("--region", default="us-east-1")
    a = ap.parse_args()

    with open(os.path.join(a.store, "LATEST"), encoding="utf-8") as f:
        snapdir = os.path.join(a.store, f.read().strip())
    model = botocore.session.get_session().get_service_model("glue")
    db_in = model.shape_for("DatabaseInput")
    table_in = model.shape_for("TableInput")
    part_in = model.shape_for("PartitionInput")
    glue = boto3.client("glue", endpoint_url=a.endpoint, region_name=a.region)

    n = {"databases": 0, "tables": 0, "partitions": 0, "requests": 0}
    t0 = time.monotonic()
    for d in lines(snapdir, "databases"):
        glue.create_database(DatabaseInput=convert(db_in, d["item"]))
        n["requests"] += 1
        n["databases"] += 1
    for t in lines(snapdir, "tables"):
        glue.create_table(DatabaseName=t["database"], TableInput=convert(table_in, t["item"]))
        n["requests"] += 1
        n["tables"] += 1

    batch, where = [], None

    def flush():
        if not batch:
            return
        ans = glue.batch_create_partition(
            DatabaseName=where[0], TableName=where[1], PartitionInputList=batch
        )
        n["requests"] += 1
        if ans.get("Errors"):
            e = ans["Errors"][0]
            sys.exit(
                "glue_boto3: %s.%s: %d partitions not created, first: %s %s"
                % (where[0], where[1], len(ans["Errors"]), e.get("PartitionValues"),
                   e.get("ErrorDetail", {}).get("ErrorCode"))
            )
        n["partitions"] += len(batch)
        batch.clear()

    for p in lines(snapdir, "partitions"):
        key = (p["database"], p["table"])
        if key != where or len(batch) == BATCH:
            flush()
            where = key
        batch.append(convert(part_in, p["item"]))
    flush()
    n["seconds"] = round(time.monotonic() - t0, 3)
    n["dropped"] = sorted(DROPPED)
    print(json.dumps(n))


if __name__ == "__main__":
    main()
