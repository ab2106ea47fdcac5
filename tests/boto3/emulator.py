"""What the boto3 checks share: the emulator started on an ephemeral port, boto3 clients
pointed at it, and the printing of an answer.

The binary is $BEDROCK_ENTITLEMENTS_BIN, else target/debug/bedrock-entitlements. The emulator
prints `AWS_ENDPOINT_URL=...` once it listens, and the checks wait for that line: no sleep.
"""

import contextlib
import json
import os
import re
import subprocess

import boto3
from botocore.config import Config


@contextlib.contextmanager
def running(*args):
    """The endpoint of an emulator started with `args` (e.g. `--seed FILE`), stopped on exit."""
    here = os.path.dirname(os.path.abspath(__file__))
    default = os.path.join(here, "..", "..", "target", "debug", "bedrock-entitlements")
    binary = os.environ.get("BEDROCK_ENTITLEMENTS_BIN", default)
    proc = subprocess.Popen(
        [binary, "emulator", "--listen", "127.0.0.1:0", *args],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        for line in proc.stderr:
            m = re.search(r"AWS_ENDPOINT_URL=(http://[0-9.:]+)", line)
            if m:
                yield m.group(1)
                return
        raise SystemExit("the emulator exited before printing its address")
    finally:
        proc.terminate()
        proc.wait()


def client(service, endpoint, key="ACCT111122223333"):
    """A boto3 client of `service` at `endpoint`, as the account `key` names, with no retries."""
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}),
    )


def show(label, value):
    """Prints an answer without its ResponseMetadata, keys sorted."""
    value = {k: v for k, v in value.items() if k != "ResponseMetadata"}
    print(f"{label}: {json.dumps(value, default=str, sort_keys=True)}")
