#!/usr/bin/env python3
"""boto3 against `bedrock-entitlements emulator`: Bedrock's control-plane operations of the
subscribe step answer in AWS's shapes (botocore parses them with its own bedrock-2023-04-20
model) and fail with AWS's error codes and HTTP statuses.

Run: python3 tests/boto3/bedrock.py  (needs `pip install boto3`). Starts the emulator on an
ephemeral port (`emulator.running`, in tests/boto3/emulator.py)
with the sandbox seed and waits for the address it prints, so no sleep. Prints each answer and
exits non-zero on the first mismatch.
"""

import json
import sys

from botocore.exceptions import ClientError

import emulator
from emulator import show

SONNET45 = "anthropic.claude-sonnet-4-5-20250929-v1:0"


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
    with emulator.running() as endpoint:
        run(endpoint)
    print("all checks passed")


def run(endpoint):
    b = emulator.client("bedrock", endpoint)
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
