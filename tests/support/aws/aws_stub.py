#!/usr/bin/env python3
"""A local stand-in, for the tests only, for the three AWS services that
hand out temporary credentials and that a test machine cannot reach: STS
(AssumeRole, AssumeRoleWithWebIdentity; XML answers as STS gives), the
ECS/EKS container credentials endpoint (JSON) and EC2 instance metadata
(IMDSv2).  It is no AWS service: it checks only what is cheap to check.

  aws_stub.py STATE_DIR

Binds 127.0.0.1 on a free port and prints "port N".  Also answers requests
sent to it as an HTTP proxy (absolute URLs), so that the container
endpoint's fixed http://169.254.170.2 can be pointed here with http_proxy.

Checks: AssumeRole needs a SigV4 Authorization header whose credential
scope is KEY/DATE/REGION/sts/aws4_request with a key it knows (STATE_DIR/
source-keys, one per line, or one it issued, then with that key's
X-Amz-Security-Token); AssumeRoleWithWebIdentity must be unsigned and carry
the token in STATE_DIR/web-token; the container endpoint wants the
Authorization header in STATE_DIR/container-token (when that file exists);
instance metadata wants a PUT /latest/api/token with a TTL header, then the
token on every GET (else 401).

Controls (files in STATE_DIR, read at each request): expire-in (seconds
the issued keys live, default 3600), fail-after (answer errors after that
many issued keys).  Every request is logged as one JSON line in
STATE_DIR/requests.jsonl; issued keys are numbered (ASIASTUB0001, ...).
"""
import json
import os
import re
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATE = sys.argv[1]
LOCK = threading.Lock()
ISSUED = {}  # access key -> session token
COUNT = [0]
IMDS_TOKENS = set()


def control(name, default=None):
    try:
        with open(os.path.join(STATE, name)) as f:
            return f.read().strip()
    except OSError:
        return default


def issue():
    """New keys, or None when fail-after says no more."""
    with LOCK:
        limit = control("fail-after")
        if limit is not None and COUNT[0] >= int(limit):
            return None
        COUNT[0] += 1
        n = COUNT[0]
        ak = "ASIASTUB%04d" % n
        ISSUED[ak] = "tok-stub-%04d" % n
    exp = time.gmtime(time.time() + int(control("expire-in", "3600")))
    return {
        "AccessKeyId": ak,
        "SecretAccessKey": "sk-stub-%04d" % n,
        "SessionToken": ISSUED[ak],
        "Expiration": time.strftime("%Y-%m-%dT%H:%M:%SZ", exp),
    }


def log(entry):
    with LOCK, open(os.path.join(STATE, "requests.jsonl"), "a") as f:
        f.write(json.dumps(entry) + "\n")


SCOPE = re.compile(r"^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request,"
                   r" ?SignedHeaders=[^,]+, ?Signature=[0-9a-f]{64}$")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, ctype):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def path_only(self):
        """The path, also of a proxy request (absolute URL); and the host asked for."""
        if self.path.startswith("http://"):
            u = urllib.parse.urlsplit(self.path)
            return u.path + ("?" + u.query if u.query else ""), u.netloc
        return self.path, self.headers.get("Host", "")

    # --- STS
    def sts_error(self, status, code, message, entry):
        entry["status"] = status
        log(entry)
        self.reply(status, "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
                   "<Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error>"
                   "<RequestId>stub</RequestId></ErrorResponse>" % (code, message), "text/xml")

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        form = urllib.parse.parse_qs(self.rfile.read(length).decode(), keep_blank_values=True)
        action = form.get("Action", [""])[0]
        params = {k: v[0] for k, v in form.items() if k not in ("WebIdentityToken",)}
        auth = self.headers.get("Authorization")
        entry = {"kind": "sts", "action": action, "params": params, "signed": auth is not None}
        if action == "AssumeRole":
            m = SCOPE.match(auth or "")
            if not m:
                return self.sts_error(403, "MissingAuthenticationToken", "not signed", entry)
            key, _, region, service = m.groups()
            entry.update(key_id=key, region=region, service=service)
            known = (control("source-keys", "") or "").split()
            token = self.headers.get("X-Amz-Security-Token")
            if service != "sts":
                return self.sts_error(403, "SignatureDoesNotMatch", "wrong service", entry)
            if key in ISSUED:
                if token != ISSUED[key]:
                    return self.sts_error(403, "InvalidClientTokenId", "bad token", entry)
                entry["session_token_ok"] = True
            elif key not in known:
                return self.sts_error(403, "InvalidClientTokenId", "unknown key", entry)
        elif action == "AssumeRoleWithWebIdentity":
            if auth is not None:
                return self.sts_error(400, "InvalidRequest", "signed", entry)
            if form.get("WebIdentityToken", [""])[0] != control("web-token"):
                return self.sts_error(400, "InvalidIdentityToken", "bad token", entry)
        else:
            return self.sts_error(400, "InvalidAction", "unknown action", entry)
        if not params.get("RoleArn", "").startswith("arn:aws:iam::"):
            return self.sts_error(400, "ValidationError", "bad RoleArn", entry)
        creds = issue()
        if creds is None:
            return self.sts_error(403, "AccessDenied", "denied by the stub", entry)
        entry.update(status=200, issued=creds["AccessKeyId"])
        log(entry)
        result = action + "Result"
        self.reply(200, "<%sResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><%s>"
                   "<Credentials><AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s</SecretAccessKey>"
                   "<SessionToken>%s</SessionToken><Expiration>%s</Expiration></Credentials>"
                   "<AssumedRoleUser><Arn>%s</Arn></AssumedRoleUser></%s>"
                   "<ResponseMetadata><RequestId>stub</RequestId></ResponseMetadata></%sResponse>"
                   % (action, result, creds["AccessKeyId"], creds["SecretAccessKey"],
                      creds["SessionToken"], creds["Expiration"], params["RoleArn"], result, action),
                   "text/xml")

    # --- instance metadata and the container endpoint
    def do_PUT(self):
        path, host = self.path_only()
        entry = {"kind": "imds-token", "path": path}
        ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
        if path != "/latest/api/token" or not ttl:
            entry["status"] = 400
            log(entry)
            return self.reply(400, "", "text/plain")
        with LOCK:
            token = "imds-%d" % (len(IMDS_TOKENS) + 1)
            IMDS_TOKENS.add(token)
        entry.update(status=200, ttl=ttl)
        log(entry)
        self.reply(200, token, "text/plain")

    def do_GET(self):
        path, host = self.path_only()
        if path.startswith("/latest/meta-data/iam/security-credentials/"):
            return self.imds(path)
        entry = {"kind": "container", "path": path, "host": host,
                 "authorization": self.headers.get("Authorization")}
        want = control("container-token")
        if want is not None and self.headers.get("Authorization") != want:
            entry["status"] = 401
            log(entry)
            return self.reply(401, '{"message": "unauthorized"}', "application/json")
        creds = issue()
        if creds is None:
            entry["status"] = 500
            log(entry)
            return self.reply(500, '{"message": "failing"}', "application/json")
        entry.update(status=200, issued=creds["AccessKeyId"])
        log(entry)
        creds = {"RoleArn": "arn:aws:iam::123456789012:role/task", "AccessKeyId": creds["AccessKeyId"],
                 "SecretAccessKey": creds["SecretAccessKey"], "Token": creds["SessionToken"],
                 "Expiration": creds["Expiration"]}
        self.reply(200, json.dumps(creds), "application/json")

    def imds(self, path):
        entry = {"kind": "imds", "path": path}
        if self.headers.get("X-aws-ec2-metadata-token") not in IMDS_TOKENS:
            entry["status"] = 401
            log(entry)
            return self.reply(401, "", "text/plain")
        role = path[len("/latest/meta-data/iam/security-credentials/"):]
        if role == "":
            entry["status"] = 200
            log(entry)
            return self.reply(200, "stub-role", "text/plain")
        if role != "stub-role":
            entry["status"] = 404
            log(entry)
            return self.reply(404, "", "text/plain")
        creds = issue()
        if creds is None:
            entry["status"] = 500
            log(entry)
            return self.reply(500, "", "text/plain")
        entry.update(status=200, issued=creds["AccessKeyId"])
        log(entry)
        self.reply(200, json.dumps({"Code": "Success", "Type": "AWS-HMAC",
                                    "LastUpdated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                    "AccessKeyId": creds["AccessKeyId"],
                                    "SecretAccessKey": creds["SecretAccessKey"],
                                    "Token": creds["SessionToken"],
                                    "Expiration": creds["Expiration"]}), "application/json")


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print("port %d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
