#!/usr/bin/env python3
"""boto3 against `bedrock-entitlements emulator`: Bedrock's control-plane operations of the
subscribe step answer in AWS's shapes (botocore parses them with its own bedrock-2023-04-20
model) and fail with AWS's error codes and HTTP statuses.

Run: python3 tests/boto3/bedrock.py  (needs `pip install boto3`). Starts the emulator on an
ephemeral port (the binary from $BEDROCK_ENTITLEMENTS_BIN, else target/debug/bedrock-entitlements)
with the sandbox seed and waits for the address it prints, so no sleep. Prints each answer and
exits non-zero on the first mismatch.
"""

import json
import os
import re
import subprocess
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

SONNET45 = "anthropic.claude-sonnet-4-5-20250929-v1:0"


def start_emulator():
    here = os.path.dirname(os.path.abspath(__file__))
    default = os.path.join(here, "..", "..", "target", "debug", "bedrock-entitlements")
    binary = os.environ.get("BEDROCK_ENTITLEMENTS_BIN", default)
    proc = subprocess.Popen(
        [binary, "emulator", "--listen", "127.0.0.1:0"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    for line in proc.stderr:
        m = re.search(r"AWS_ENDPOINT_URL=(http://[0-9.:]+)", line)
        if m:
            return proc, m.group(1)
    raise SystemExit("the emulator exited before printing its address")


def client(endpoint, key="ACCT111122223333"):
    return boto3.client(
        "bedrock",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}),
    )


def show(label, value):
    value = {k: v for k, v in value.items() if k != "ResponseMetadata"}
    print(f"{label}: {json.dumps(value, default=str, sort_keys=True)}")


def check(cond, what):
    if not cond:
        raise SystemExit(f"MISMATCH: {what}")


def expect_error(label, code, status, call):
    try:
        call()
    except ClientError as e:
        got = e.response["Error"].get("Code")
        http = e.response["ResponseMetadata"]["HTTPStatusCode"]
        print(f"{label}: {got} {http} {e.response['Error'].get('Message')!r}")
        check(got == code, f"{label}: expected {code}, got {got}")
        check(http == status, f"{label}: expected HTTP {status}, got {http}")
        return
    raise SystemExit(f"MISMATCH: {label}: expected {code}, the call succeeded")


def main():
    proc, endpoint = start_emulator()
    try:
        run(endpoint)
    finally:
        proc.terminate()
        proc.wait()
    print("all checks passed")


def run(endpoint):
    b = client(endpoint)
    every = b.list_foundation_model_agreement_offers(modelId=SONNET45, offerType="ALL")
    show("ListFoundationModelAgreementOffers ALL", every)
    ids = [o["offerId"] for o in every["offers"]]
    check(len(ids) == 3, f"three offers with ALL, got {ids}")
    for o in every["offers"]:
        terms = o["termDetails"]
        check("rateCard" in terms["usageBasedPricingTerm"], "a rate card")
        check("url" in terms["legalTerm"], "a legal term")
    public = b.list_foundation_model_agreement_offers(modelId=SONNET45, offerType="PUBLIC")
    check([o["offerId"] for o in public["offers"]] == ["offer-s0nn45pub001"], "one public offer")
    expect_error(
        "ListFoundationModelAgreementOffers bad id",
        "ValidationException",
        400,
        lambda: b.list_foundation_model_agreement_offers(modelId="Not.A Model"),
    )
    avail = b.get_foundation_model_availability(modelId=SONNET45)
    show("GetFoundationModelAvailability", avail)
    check(avail["agreementAvailability"]["status"] == "NOT_AVAILABLE", "no agreement yet")
    expect_error(
        "CreateFoundationModelAgreement expired",
        "ValidationException",
        400,
        lambda: b.create_foundation_model_agreement(
            modelId=SONNET45, offerToken="tok-sonnet45-expired"
        ),
    )
    made = b.create_foundation_model_agreement(modelId=SONNET45, offerToken="tok-sonnet45-private")
    show("CreateFoundationModelAgreement", made)
    check(made["ResponseMetadata"]["HTTPStatusCode"] == 202, "202 Accepted")
    check(made["modelId"] == SONNET45, "the model id back")
    avail = b.get_foundation_model_availability(modelId=SONNET45)
    check(avail["agreementAvailability"]["status"] == "PENDING", "pending after the request")
    expect_error(
        "CreateFoundationModelAgreement again",
        "ConflictException",
        400,
        lambda: b.create_foundation_model_agreement(
            modelId=SONNET45, offerToken="tok-sonnet45-private"
        ),
    )
    expect_error(
        "GetFoundationModelAvailability unknown model",
        "ResourceNotFoundException",
        404,
        lambda: b.get_foundation_model_availability(modelId="anthropic.claude-nope-v1:0"),
    )
    model = b.get_foundation_model(modelIdentifier=SONNET45)
    show("GetFoundationModel", model)
    check(model["modelDetails"]["providerName"] == "Anthropic", "the provider")
    # The sandbox seed records the management account's form (its README session's bootstrap
    # is all set); a new form replaces it.
    before = b.get_use_case_for_model_access()
    check(
        json.loads(before["formData"])["companyName"] == "Example Corp",
        f"the seeded form, got {before['formData']!r}",
    )
    form = json.dumps({"companyName": "Example Corp 2"}).encode()
    put = b.put_use_case_for_model_access(formData=form)
    check(put["ResponseMetadata"]["HTTPStatusCode"] == 201, "201 Created")
    got = b.get_use_case_for_model_access()
    check(got["formData"] == form, f"the form back, got {got['formData']!r}")
    print("GetUseCaseForModelAccess: formData round-trips")


if __name__ == "__main__":
    sys.exit(main())
