#!/usr/bin/env python3
"""boto3 against `bedrock-entitlements emulator`: Organizations policy operations answer in AWS's
shapes and fail with AWS's error codes (and `Reason` members).

Run: python3 tests/boto3/org_policies.py  (needs `pip install boto3`). Starts the emulator on an
ephemeral port (`emulator.running`, in tests/boto3/emulator.py)
and waits for the address it prints, so no sleep. Prints each answer and exits non-zero on the
first mismatch.
"""

import json
import sys

from botocore.exceptions import ClientError

import emulator
from emulator import show

ROOT = "r-ab12"
OU_ML = "ou-ab12-mlplatfm"
ML_PROD = "222233334444"
SCP = "SERVICE_CONTROL_POLICY"
DENY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Action": "bedrock:*",
                "Resource": "arn:aws:bedrock:*::foundation-model/anthropic.claude-sonnet-4-5-*",
            }
        ],
    },
    separators=(",", ":"),
)


def expect_error(label, code, call, reason=None):
    try:
        call()
    except ClientError as e:
        err = e.response["Error"]
        got = err.get("Code")
        extra = {k: v for k, v in e.response.items() if k == "Reason"}
        print(f"{label}: {got} {err.get('Message')!r} {extra or ''}".rstrip())
        if got != code:
            raise SystemExit(f"{label}: expected {code}, got {got}")
        if reason is not None and e.response.get("Reason") != reason:
            raise SystemExit(f"{label}: expected Reason {reason}, got {e.response.get('Reason')}")
        return
    raise SystemExit(f"{label}: expected {code}, got success")


def check(cond, what):
    if not cond:
        raise SystemExit(f"check failed: {what}")


def run(org, member):
    expect_error("AttachPolicy before EnablePolicyType", "PolicyTypeNotEnabledException",
                 lambda: org.attach_policy(PolicyId="p-FullAWSAccess", TargetId=ML_PROD))
    r = org.enable_policy_type(RootId=ROOT, PolicyType=SCP)
    show("EnablePolicyType", r)
    check(r["Root"]["PolicyTypes"] == [{"Type": SCP, "Status": "ENABLED"}], "root policy types")
    roots = org.list_roots()["Roots"]
    show("ListRoots", {"Roots": roots})
    check(roots[0]["PolicyTypes"][0]["Status"] == "ENABLED", "ListRoots PolicyTypes")
    r = org.list_policies_for_target(TargetId=ML_PROD, Filter=SCP)
    show("ListPoliciesForTarget", r)
    check([p["Id"] for p in r["Policies"]] == ["p-FullAWSAccess"], "FullAWSAccess attached")
    r = org.create_policy(Name="bedrock-guard-claude-sonnet", Description="guardrail",
                          Type=SCP, Content=DENY,
                          Tags=[{"Key": "managed-by", "Value": "bedrock-entitlements"}])
    show("CreatePolicy", r)
    pid = r["Policy"]["PolicySummary"]["Id"]
    check(r["Policy"]["PolicySummary"]["AwsManaged"] is False, "AwsManaged false")
    show("DescribePolicy", org.describe_policy(PolicyId=pid))
    show("ListTagsForResource", org.list_tags_for_resource(ResourceId=pid))
    org.attach_policy(PolicyId=pid, TargetId=OU_ML)
    r = org.list_targets_for_policy(PolicyId=pid)
    show("ListTargetsForPolicy", r)
    check(r["Targets"][0]["Type"] == "ORGANIZATIONAL_UNIT", "target type")
    show("ListPolicies", org.list_policies(Filter=SCP))
    show("UpdatePolicy", org.update_policy(PolicyId=pid, Description="guardrail v2"))
    expect_error("CreatePolicy same name", "DuplicatePolicyException",
                 lambda: org.create_policy(Name="bedrock-guard-claude-sonnet", Description="",
                                           Type=SCP, Content=DENY))
    expect_error("CreatePolicy 5,121 characters", "ConstraintViolationException",
                 lambda: org.create_policy(Name="big", Description="", Type=SCP,
                                           Content=DENY[:-2] + " " * (5121 - len(DENY)) + "]}"),
                 reason="POLICY_CONTENT_LIMIT_EXCEEDED")
    expect_error("CreatePolicy malformed", "MalformedPolicyDocumentException",
                 lambda: org.create_policy(Name="bad", Description="", Type=SCP,
                                           Content='{"Statement":[{"Effect":"Deny"}]}'))
    expect_error("AttachPolicy twice", "DuplicatePolicyAttachmentException",
                 lambda: org.attach_policy(PolicyId=pid, TargetId=OU_ML))
    expect_error("DeletePolicy attached", "PolicyInUseException",
                 lambda: org.delete_policy(PolicyId=pid))
    expect_error("DetachPolicy last SCP", "ConstraintViolationException",
                 lambda: org.detach_policy(PolicyId="p-FullAWSAccess", TargetId=ML_PROD),
                 reason="MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED")
    expect_error("AttachPolicy unknown account", "TargetNotFoundException",
                 lambda: org.attach_policy(PolicyId=pid, TargetId="123456789012"))
    expect_error("DescribePolicy unknown", "PolicyNotFoundException",
                 lambda: org.describe_policy(PolicyId="p-0000000000"))
    expect_error("ListPolicies from a member account", "AccessDeniedException",
                 lambda: member.list_policies(Filter=SCP))
    org.detach_policy(PolicyId=pid, TargetId=OU_ML)
    expect_error("DetachPolicy not attached", "PolicyNotAttachedException",
                 lambda: org.detach_policy(PolicyId=pid, TargetId=OU_ML))
    org.delete_policy(PolicyId=pid)
    show("DisablePolicyType", org.disable_policy_type(RootId=ROOT, PolicyType=SCP))
    print("all checks passed")


def main():
    with emulator.running() as endpoint:
        org = emulator.client("organizations", endpoint)
        run(org, emulator.client("organizations", endpoint, "ACCT" + ML_PROD))


if __name__ == "__main__":
    sys.exit(main())
