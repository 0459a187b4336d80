"""`metasync serve` through boto3 (Debian's python3-boto3, a real client).

Run by serve_boto3.sh, which starts three servers and passes them here:
MS_GLUE_ENDPOINT (plain), MS_GLUE_FAULTS_ENDPOINT (--faults 0.5) and
MS_GLUE_THROTTLE_ENDPOINT (--throttle 2/s), with the accounts of
tests/support/serve_e2e.sh in ACCT_*, KEY_*, SECRET_* and TOKEN_C.  Every
test makes its own databases, so that they run in any order.

    /usr/bin/python3 serve_boto3.py [-v] [TestClass[.test_method] ...]
"""

import datetime
import http.client
import json
import os
import socket
import threading
import time
import unittest
import urllib.parse
import urllib.request

import boto3
import botocore.exceptions
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

ENDPOINT = os.environ["MS_GLUE_ENDPOINT"]
FAULTS_ENDPOINT = os.environ["MS_GLUE_FAULTS_ENDPOINT"]
THROTTLE_ENDPOINT = os.environ["MS_GLUE_THROTTLE_ENDPOINT"]
REGION = "us-east-1"


def account(who):
    """(account id, key, secret, session token or None) of account A, B or C."""
    return (os.environ["ACCT_" + who], os.environ["KEY_" + who], os.environ["SECRET_" + who],
            os.environ.get("TOKEN_" + who))


ACCT_A, ACCT_B = account("A")[0], account("B")[0]


def client(who="A", endpoint=ENDPOINT, attempts=1, validate=True):
    """A Glue client of its own session (one per thread): attempts 1 means no retries."""
    _, key, secret, token = account(who)
    session = boto3.session.Session()
    return session.client(
        "glue", endpoint_url=endpoint, region_name=REGION, aws_access_key_id=key,
        aws_secret_access_key=secret, aws_session_token=token,
        config=Config(retries={"mode": "standard", "max_attempts": attempts},
                      parameter_validation=validate, connect_timeout=5, read_timeout=60))


def error_of(call, *args, **kwargs):
    """The Glue error code call raises (None when it succeeds) and its ClientError."""
    try:
        call(*args, **kwargs)
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"], e
    return None, None


# A table partitioned by region (string), n (int) and dt (date).
KEYS = [{"Name": "region", "Type": "string"}, {"Name": "n", "Type": "int"},
        {"Name": "dt", "Type": "date"}]


def table_input(name, description=None, keys=KEYS):
    t = {"Name": name, "PartitionKeys": keys,
         "StorageDescriptor": {"Columns": [{"Name": "id", "Type": "bigint"}],
                               "Location": "s3://lake/" + name}}
    if description is not None:
        t["Description"] = description
    return t


def part(values, location=None):
    p = {"Values": list(values), "StorageDescriptor": {"Columns": [{"Name": "id", "Type": "bigint"}]}}
    if location:
        p["StorageDescriptor"]["Location"] = location
    return p


def new_table(glue, db, table="t"):
    """Database db with table partitioned by KEYS."""
    glue.create_database(DatabaseInput={"Name": db})
    glue.create_table(DatabaseName=db, TableInput=table_input(table))


def batches(items, size):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def all_partitions(glue, db, table, page_size=100, **kwargs):
    """Every partition's values (tuples) through boto3's paginator, pages checked for size."""
    out = []
    pages = glue.get_paginator("get_partitions").paginate(
        DatabaseName=db, TableName=table, PaginationConfig={"PageSize": page_size}, **kwargs)
    for page in pages:
        if len(page["Partitions"]) > page_size:
            raise AssertionError("a page of %d partitions, PageSize %d"
                                 % (len(page["Partitions"]), page_size))
        out.extend(tuple(p["Values"]) for p in page["Partitions"])
    return out


def item_errors(answer, key="PartitionValues"):
    """A batch answer's Errors as {values tuple: error code}."""
    return {tuple(e.get(key, [])): e["ErrorDetail"]["ErrorCode"] for e in answer["Errors"]}


class GlueTest(unittest.TestCase):
    def setUp(self):
        self.glue = client("A")

    def assertGlueError(self, code, call, *args, **kwargs):
        got, _ = error_of(call, *args, **kwargs)
        self.assertEqual(got, code, "%s: want %s, got %s" % (call.__name__, code, got or "success"))


class BatchTests(GlueTest):
    """Batch operations answer 200 with per-item Errors; the rest is done."""

    def setUp(self):
        super().setUp()
        self.db = "batch_%s" % self._testMethodName[5:]
        new_table(self.glue, self.db)

    def create(self, *values):
        answer = self.glue.batch_create_partition(
            DatabaseName=self.db, TableName="t", PartitionInputList=[part(v) for v in values])
        self.assertEqual(answer["Errors"], [], "batch_create_partition of valid partitions")

    def stored(self):
        return set(all_partitions(self.glue, self.db, "t"))

    def test_create_with_duplicates_and_bad_items(self):
        self.create(("z", "0", "2024-01-01"))
        answer = self.glue.batch_create_partition(DatabaseName=self.db, TableName="t", PartitionInputList=[
            part(("a", "1", "2024-01-01")), part(("a", "1", "2024-01-01")),
            part(("a", "2", "2024-01-02")), part(("b",)), part(("z", "0", "2024-01-01"))])
        self.assertEqual(len(answer["Errors"]), 3, "Errors: %s" % answer["Errors"])
        self.assertEqual(item_errors(answer), {
            ("a", "1", "2024-01-01"): "AlreadyExistsException",
            ("b",): "InvalidInputException",
            ("z", "0", "2024-01-01"): "AlreadyExistsException"})
        self.assertEqual(self.stored(), {("z", "0", "2024-01-01"), ("a", "1", "2024-01-01"),
                                         ("a", "2", "2024-01-02")})

    def test_delete_of_missing_ones(self):
        self.create(("a", "1", "2024-01-01"), ("a", "2", "2024-01-01"), ("a", "3", "2024-01-01"))
        answer = self.glue.batch_delete_partition(DatabaseName=self.db, TableName="t", PartitionsToDelete=[
            {"Values": ["a", "1", "2024-01-01"]}, {"Values": ["x", "9", "2024-01-01"]},
            {"Values": ["a", "2", "2024-01-01"]}])
        self.assertEqual(item_errors(answer), {("x", "9", "2024-01-01"): "EntityNotFoundException"})
        self.assertEqual(self.stored(), {("a", "3", "2024-01-01")})

    def test_get_leaves_out_missing_ones(self):
        self.create(("a", "1", "2024-01-01"), ("a", "2", "2024-01-01"))
        answer = self.glue.batch_get_partition(DatabaseName=self.db, TableName="t", PartitionsToGet=[
            {"Values": ["a", "1", "2024-01-01"]}, {"Values": ["x", "9", "2024-01-01"]}])
        self.assertEqual([p["Values"] for p in answer["Partitions"]], [["a", "1", "2024-01-01"]])
        self.assertEqual(answer.get("UnprocessedKeys", []), [])

    def test_update_with_a_missing_one(self):
        self.create(("a", "1", "2024-01-01"), ("a", "2", "2024-01-01"))
        answer = self.glue.batch_update_partition(DatabaseName=self.db, TableName="t", Entries=[
            {"PartitionValueList": ["a", "1", "2024-01-01"],
             "PartitionInput": part(("a", "1", "2024-01-01"), "s3://moved/1")},
            {"PartitionValueList": ["x", "9", "2024-01-01"],
             "PartitionInput": part(("x", "9", "2024-01-01"), "s3://moved/9")}])
        self.assertEqual(item_errors(answer, "PartitionValueList"),
                         {("x", "9", "2024-01-01"): "EntityNotFoundException"})
        got = self.glue.get_partition(DatabaseName=self.db, TableName="t",
                                      PartitionValues=["a", "1", "2024-01-01"])
        self.assertEqual(got["Partition"]["StorageDescriptor"].get("Location"), "s3://moved/1")
        self.assertEqual(self.stored(), {("a", "1", "2024-01-01"), ("a", "2", "2024-01-01")})


# 2,000 partitions: regions eu, us, ap, sa times n 0..499, dt 2024-01-01 + n % 90 days.
def big_rows():
    start = datetime.date(2024, 1, 1)
    return [(r, n, start + datetime.timedelta(days=n % 90))
            for r in ("eu", "us", "ap", "sa") for n in range(500)]


def as_values(row):
    return (row[0], str(row[1]), row[2].isoformat())


D = datetime.date
# Expressions on string, int and date keys, and the same filter in Python.
FILTERS = [
    ("region = 'eu'", lambda r, n, d: r == "eu"),
    ("n < 10", lambda r, n, d: n < 10),
    ("n >= 100 AND n <= 120", lambda r, n, d: 100 <= n <= 120),
    ("region <> 'us' AND n > 490", lambda r, n, d: r != "us" and n > 490),
    ("NOT region = 'ap' AND n = 7", lambda r, n, d: r != "ap" and n == 7),
    ("region IN ('eu', 'sa') AND n BETWEEN 5 AND 9", lambda r, n, d: r in ("eu", "sa") and 5 <= n <= 9),
    ("n IN (1, 11, 111)", lambda r, n, d: n in (1, 11, 111)),
    ("dt = '2024-01-05'", lambda r, n, d: d == D(2024, 1, 5)),
    ("dt BETWEEN '2024-03-01' AND '2024-03-03' AND region = 'us'",
     lambda r, n, d: D(2024, 3, 1) <= d <= D(2024, 3, 3) and r == "us"),
    ("dt > '2024-03-29' OR n = 0", lambda r, n, d: d > D(2024, 3, 29) or n == 0),
    ("region LIKE 'a%' AND n < 3", lambda r, n, d: r.startswith("a") and n < 3),
    ("(region = 'sa' OR region = 'eu') AND NOT (n >= 2)", lambda r, n, d: r in ("sa", "eu") and n < 2),
]


class PaginationTests(GlueTest):
    """Paginators over 2,000 partitions, filtered and in segments."""

    @classmethod
    def setUpClass(cls):
        glue = client("A")
        new_table(glue, "pgn", "big")
        for chunk in batches([part(as_values(r)) for r in big_rows()], 100):
            answer = glue.batch_create_partition(DatabaseName="pgn", TableName="big",
                                                 PartitionInputList=chunk)
            if answer["Errors"]:
                raise AssertionError("batch_create_partition: %s" % answer["Errors"][:3])
        cls.all = {as_values(r) for r in big_rows()}

    def test_each_partition_exactly_once(self):
        for size in (1000, 100, 7):
            with self.subTest(page_size=size):
                got = all_partitions(self.glue, "pgn", "big", page_size=size)
                self.assertEqual(len(got), 2000, "partitions read %d a page" % size)
                self.assertEqual(set(got), self.all)

    def test_expressions_match_python(self):
        for expr, keep in FILTERS:
            with self.subTest(expression=expr):
                want = {as_values(r) for r in big_rows() if keep(*r)}
                self.assertTrue(want, "the filter selects nothing: a weak check")
                got = all_partitions(self.glue, "pgn", "big", page_size=50, Expression=expr)
                self.assertEqual(len(got), len(set(got)), "a partition read twice")
                self.assertEqual(set(got), want)

    def test_segments_are_disjoint_and_complete(self):
        for total in range(1, 11):
            with self.subTest(total_segments=total):
                union, count = set(), 0
                for number in range(total):
                    got = all_partitions(self.glue, "pgn", "big", page_size=200,
                                         Segment={"SegmentNumber": number, "TotalSegments": total})
                    union |= set(got)
                    count += len(got)
                self.assertEqual(count, len(union), "%d segments overlap" % total)
                self.assertEqual(union, self.all, "%d segments miss partitions" % total)


class VersionTests(GlueTest):
    """UpdateTable with VersionId from two threads: one wins each round."""

    ROUNDS = 8

    def race(self, db, rounds):
        """Each round two threads read VersionId, then both update with it; the outcomes."""
        outcomes = []
        for r in range(rounds):
            barrier, results = threading.Barrier(2), [None, None]

            def contender(i):
                glue = client("A")
                version = glue.get_table(DatabaseName=db, Name="t")["Table"]["VersionId"]
                barrier.wait()
                code, _ = error_of(glue.update_table, DatabaseName=db, VersionId=version,
                                   TableInput=table_input("t", "round %d thread %d" % (r, i)))
                results[i] = code or "ok"

            threads = [threading.Thread(target=contender, args=(i,)) for i in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            outcomes.append(sorted(results))
        return outcomes

    def test_one_update_wins_each_round(self):
        new_table(self.glue, "ver_race")
        outcomes = self.race("ver_race", self.ROUNDS)
        self.assertEqual(outcomes, [["ConcurrentModificationException", "ok"]] * self.ROUNDS)
        table = self.glue.get_table(DatabaseName="ver_race", Name="t")["Table"]
        self.assertEqual(table["VersionId"], str(self.ROUNDS))

    def versions(self, db):
        pages = self.glue.get_paginator("get_table_versions").paginate(DatabaseName=db, TableName="t")
        return sorted(int(v["VersionId"]) for page in pages for v in page["TableVersions"])

    def test_versions_archived_unless_skip_archive(self):
        new_table(self.glue, "ver_archive")
        self.race("ver_archive", self.ROUNDS)
        self.assertEqual(self.versions("ver_archive"), list(range(self.ROUNDS + 1)))
        self.glue.update_table(DatabaseName="ver_archive", SkipArchive=True,
                               TableInput=table_input("t", "not archived"))
        self.assertEqual(self.versions("ver_archive"), list(range(self.ROUNDS)) + [self.ROUNDS + 1],
                         "the version SkipArchive replaced is not kept")


class CrossAccountTests(GlueTest):
    """B reads A's 'pub_*' (read grant); C writes A's 'shared' (write grant)."""

    @classmethod
    def setUpClass(cls):
        glue = client("A")
        for db in ("pub_boto", "priv_boto", "shared"):
            new_table(glue, db)

    def test_read_with_a_grant(self):
        table = client("B").get_table(CatalogId=ACCT_A, DatabaseName="pub_boto", Name="t")["Table"]
        self.assertEqual((table["CatalogId"], table["DatabaseName"]), (ACCT_A, "pub_boto"))

    def test_read_without_a_grant(self):
        self.assertGlueError("AccessDeniedException", client("B").get_table,
                             CatalogId=ACCT_A, DatabaseName="priv_boto", Name="t")

    def test_write_with_a_read_grant(self):
        self.assertGlueError("AccessDeniedException", client("B").create_partition,
                             CatalogId=ACCT_A, DatabaseName="pub_boto", TableName="t",
                             PartitionInput=part(("eu", "1", "2024-01-01")))

    def test_write_with_a_write_grant(self):
        client("C").create_partition(CatalogId=ACCT_A, DatabaseName="shared", TableName="t",
                                     PartitionInput=part(("c", "1", "2024-01-01")))
        self.assertIn(("c", "1", "2024-01-01"), all_partitions(self.glue, "shared", "t"))

    def test_own_catalog_shows_nothing_of_another(self):
        pages = client("B").get_paginator("get_databases").paginate()
        names = {d["Name"] for page in pages for d in page["DatabaseList"]}
        self.assertFalse(names & {"pub_boto", "priv_boto", "shared"}, "B's own catalog: %s" % names)


class SearchTests(GlueTest):
    """SearchTables a page at a time (no paginator: NextToken by hand)."""

    def test_pages_cover_each_table_once(self):
        self.glue.create_database(DatabaseInput={"Name": "search_pages"})
        for i in range(12):
            self.glue.create_table(DatabaseName="search_pages", TableInput={"Name": "st_%02d" % i})
        names, token, pages = [], None, 0
        while True:
            answer = self.glue.search_tables(Filters=[{"Key": "DatabaseName", "Value": "search_pages"}],
                                             MaxResults=5, **({"NextToken": token} if token else {}))
            names += [t["Name"] for t in answer["TableList"]]
            pages += 1
            token = answer.get("NextToken")
            if not token or pages > 12:
                break
        self.assertEqual(names, ["st_%02d" % i for i in range(12)], "by name, each once")
        self.assertEqual(pages, 3)


class ConcurrencyTests(GlueTest):
    """Writers to one table at once lose nothing."""

    THREADS, BATCHES, SIZE = 8, 5, 50

    def test_parallel_batch_creates(self):
        new_table(self.glue, "conc")
        failures = []

        def writer(w):
            glue = client("A")
            for b in range(self.BATCHES):
                chunk = [part(("w%d" % w, str(b * self.SIZE + i), "2024-01-01")) for i in range(self.SIZE)]
                try:
                    answer = glue.batch_create_partition(DatabaseName="conc", TableName="t",
                                                         PartitionInputList=chunk)
                    failures.extend(answer["Errors"])
                except botocore.exceptions.ClientError as e:
                    failures.append(e.response["Error"])

        threads = [threading.Thread(target=writer, args=(w,)) for w in range(self.THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(failures, [], "batch_create_partition failures under concurrency")
        got = all_partitions(self.glue, "conc", "t", page_size=1000)
        self.assertEqual(len(got), self.THREADS * self.BATCHES * self.SIZE)
        self.assertEqual(len(set(got)), len(got))


class RawRequest:
    """A request signed by SigV4Auth as account A and sent by http.client, unchanged."""

    def __init__(self, operation, body):
        _, key, secret, _ = account("A")
        req = AWSRequest(method="POST", url=ENDPOINT + "/", data=body, headers={
            "X-Amz-Target": "AWSGlue." + operation, "Content-Type": "application/x-amz-json-1.1"})
        SigV4Auth(Credentials(key, secret), "glue", REGION).add_auth(req)
        self.prepared = req.prepare()
        url = urllib.parse.urlsplit(ENDPOINT)
        self.host, self.port = url.hostname, url.port

    def send(self):
        """(status, error type or None) of the answer."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            conn.request("POST", "/", body=self.prepared.body, headers=dict(self.prepared.headers))
            resp = conn.getresponse()
            body = resp.read()
        finally:
            conn.close()
        etype = json.loads(body).get("__type") if resp.status != 200 else None
        return resp.status, etype

    def send_half_and_close(self):
        """The headers and half the body, then the connection closed."""
        head = "POST / HTTP/1.1\r\n" + "".join(
            "%s: %s\r\n" % kv for kv in self.prepared.headers.items()) + "\r\n"
        body = self.prepared.body
        with socket.create_connection((self.host, self.port), timeout=10) as s:
            s.sendall(head.encode() + body[:len(body) // 2])


def in_flight():
    """metasync_glue_in_flight of the plain server's /metrics."""
    with urllib.request.urlopen(ENDPOINT + "/metrics", timeout=10) as resp:
        for line in resp.read().decode().splitlines():
            if line.startswith("metasync_glue_in_flight "):
                return int(line.split()[1])
    raise AssertionError("/metrics has no metasync_glue_in_flight")


class MalformedTests(GlueTest):
    """Bodies a client library would never send: refused, and the server goes on."""

    def tearDown(self):
        self.assertIn("DatabaseList", self.glue.get_databases(), "the server after the request")

    def assertRefused(self, operation, body, types=("SerializationException",)):
        status, etype = RawRequest(operation, body).send()
        self.assertEqual(status, 400)
        self.assertIn(etype, types)

    def test_invalid_json(self):
        self.assertRefused("GetDatabases", b'{"MaxResults": ')

    def test_a_json_array(self):
        self.assertRefused("GetDatabases", b"[]")

    def test_invalid_utf8(self):
        self.assertRefused("GetDatabase", b'{"Name": "caf\xc3"}')

    def test_an_escaped_nul(self):
        self.assertRefused("CreateDatabase", b'{"DatabaseInput": {"Name": "a\\u0000b"}}')
        self.assertGlueError("EntityNotFoundException", self.glue.get_database, Name="a")

    def test_arrays_1000_deep(self):
        self.assertRefused("GetDatabases", b"[" * 1000 + b"]" * 1000)
        self.assertRefused("GetDatabase", b'{"Name": ' + b"[" * 1000 + b"]" * 1000 + b"}")

    def test_a_member_of_the_wrong_type(self):
        self.assertRefused("GetDatabase", b'{"Name": 5}',
                           ("SerializationException", "InvalidInputException"))
        self.assertRefused("CreateDatabase", b'{"DatabaseInput": {"Name": ["x"]}}',
                           ("SerializationException", "InvalidInputException"))

    def test_an_unknown_operation(self):
        self.assertRefused("DropEverything", b"{}", ("UnknownOperationException",))

    def test_a_client_gone_mid_request_writes_nothing(self):
        new_table(self.glue, "half")
        body = json.dumps({"DatabaseName": "half", "TableName": "t", "PartitionInputList": [
            part(("h", str(i), "2024-01-01")) for i in range(50)]}).encode()
        RawRequest("BatchCreatePartition", body).send_half_and_close()
        time.sleep(0.5)
        self.assertEqual(all_partitions(self.glue, "half", "t"), [])
        self.assertEqual(in_flight(), 0, "requests in flight after the client left")
        status, _ = RawRequest("BatchCreatePartition", body).send()
        self.assertEqual(status, 200, "the whole request after the half one")
        self.assertEqual(len(all_partitions(self.glue, "half", "t")), 50)


def outcome(call):
    """'ok', the Glue error code with its HTTP status, or 'dropped' for a lost connection."""
    try:
        call()
        return "ok"
    except botocore.exceptions.ClientError as e:
        return "%s %d" % (e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"])
    except (botocore.exceptions.ConnectionClosedError, botocore.exceptions.EndpointConnectionError):
        return "dropped"


def at_once(n, call, *client_args):
    """call(client) from n threads released together (one client each, made before); the results."""
    clients = [client(*client_args) for _ in range(n)]
    barrier, results = threading.Barrier(n), [None] * n

    def run(i):
        barrier.wait()
        results[i] = call(clients[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


class FaultTests(unittest.TestCase):
    """--faults 0.5: half the requests fail, as 500s or dropped connections."""

    def test_without_retries_faults_show(self):
        glue = client("A", FAULTS_ENDPOINT)
        seen = [outcome(glue.get_databases) for _ in range(40)]
        self.assertEqual(set(seen), {"ok", "InternalServiceException 500", "dropped"}, seen)

    def test_with_retries_every_call_succeeds(self):
        glue = client("A", FAULTS_ENDPOINT, attempts=10)
        for i in range(20):
            glue.create_database(DatabaseInput={"Name": "retried_%02d" % i})
        pages = glue.get_paginator("get_databases").paginate(PaginationConfig={"PageSize": 5})
        names = [d["Name"] for page in pages for d in page["DatabaseList"]]
        self.assertEqual(sorted(n for n in names if n.startswith("retried_")),
                         ["retried_%02d" % i for i in range(20)])


class ThrottleTests(unittest.TestCase):
    """--throttle 2/s: more is ThrottlingException "Rate exceeded"."""

    def test_without_retries_rate_exceeded(self):
        answers = at_once(12, lambda glue: error_of(glue.get_databases), "B", THROTTLE_ENDPOINT)
        seen = ["ok" if e is None else "%s %d %s" % (code, e.response["ResponseMetadata"]["HTTPStatusCode"],
                                                     e.response["Error"]["Message"])
                for code, e in answers]
        self.assertGreaterEqual(seen.count("ok"), 2, "the burst of 2: %s" % seen)
        self.assertEqual(set(seen), {"ok", "ThrottlingException 400 Rate exceeded"}, seen)

    def test_with_retries_every_call_succeeds(self):
        glue = client("A", THROTTLE_ENDPOINT, attempts=10)
        for i in range(8):
            glue.create_database(DatabaseInput={"Name": "paced_%d" % i})
        names = {d["Name"] for d in glue.get_databases()["DatabaseList"]}
        self.assertTrue({"paced_%d" % i for i in range(8)} <= names, names)


class ValidationTests(GlueTest):
    """Values outside Glue's constraints are InvalidInputException (the client checks off)."""

    def setUp(self):
        self.glue = client("A", validate=False)
        self.db = "val_%s" % self._testMethodName[5:]
        self.glue.create_database(DatabaseInput={"Name": self.db})

    def assertInvalidTable(self, **changes):
        t = table_input("t")
        t.update(changes)
        self.assertGlueError("InvalidInputException", self.glue.create_table,
                             DatabaseName=self.db, TableInput=t)
        self.assertGlueError("EntityNotFoundException", self.glue.get_table, DatabaseName=self.db, Name="t")

    def test_sort_order_2(self):
        self.assertInvalidTable(StorageDescriptor={
            "Columns": [{"Name": "id", "Type": "bigint"}],
            "SortColumns": [{"Column": "id", "SortOrder": 2}]})

    def test_empty_owner(self):
        self.assertInvalidTable(Owner="")

    def test_control_character_in_a_column_type(self):
        self.assertInvalidTable(StorageDescriptor={"Columns": [{"Name": "id", "Type": "big\x01int"}]})

    def test_database_location_of_1107_characters(self):
        uri = "s3://lake/" + "x" * 1097
        self.assertEqual(len(uri), 1107)
        self.assertGlueError("InvalidInputException", self.glue.create_database,
                             DatabaseInput={"Name": self.db + "_loc", "LocationUri": uri})

    def test_an_empty_partition_value(self):
        self.glue.create_table(DatabaseName=self.db, TableInput=table_input(
            "one", keys=[{"Name": "k", "Type": "string"}]))
        self.assertGlueError("InvalidInputException", self.glue.create_partition,
                             DatabaseName=self.db, TableName="one", PartitionInput={"Values": [""]})


class OutputShapeTests(GlueTest):
    """Members Glue itself adds to what it returns."""

    @classmethod
    def setUpClass(cls):
        glue = client("A")
        new_table(glue, "shape")
        glue.create_partition(DatabaseName="shape", TableName="t",
                              PartitionInput=part(("eu", "1", "2024-01-01")))

    def test_database(self):
        db = self.glue.get_database(Name="shape")["Database"]
        self.assertEqual(db["CatalogId"], ACCT_A)
        self.assertIsInstance(db["CreateTime"], datetime.datetime)
        self.assertEqual(db.get("CreateTableDefaultPermissions"), [{
            "Principal": {"DataLakePrincipalIdentifier": "IAM_ALLOWED_PRINCIPALS"},
            "Permissions": ["ALL"]}])

    def test_table(self):
        t = self.glue.get_table(DatabaseName="shape", Name="t")["Table"]
        self.assertEqual((t["CatalogId"], t["DatabaseName"], t["VersionId"]), (ACCT_A, "shape", "0"))
        self.assertIs(t["IsRegisteredWithLakeFormation"], False)
        self.assertIsInstance(t["UpdateTime"], datetime.datetime)
        self.assertTrue(t.get("CreatedBy", "").startswith("arn:aws:iam::%s:" % ACCT_A),
                        "CreatedBy: %r" % t.get("CreatedBy"))

    def test_partition(self):
        for p in (self.glue.get_partition(DatabaseName="shape", TableName="t",
                                          PartitionValues=["eu", "1", "2024-01-01"])["Partition"],
                  self.glue.get_partitions(DatabaseName="shape", TableName="t")["Partitions"][0]):
            self.assertEqual((p["CatalogId"], p["DatabaseName"], p["TableName"]), (ACCT_A, "shape", "t"))
            self.assertIsInstance(p["CreationTime"], datetime.datetime)


if __name__ == "__main__":
    unittest.main()
