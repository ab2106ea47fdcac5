//! Calls made in process, without HTTP or sockets: the JSON body an SDK would send goes
//! through the same pipeline as a request over HTTP (`server::run_call`: count, latency, rate
//! limit, scripted and random faults, caller, IAM policy, operation), and the JSON answer or
//! the AWS error comes back. For unit tests under paused tokio time: the emulator's clock is
//! tokio's (`clock`), so its workflows, deletions and rate limits follow the paused time.
//!
//! The caller is named by account, as the `ACCT<12 digits>` access key names it over HTTP; the
//! region is the home region.

use serde_json::Value;

use super::EmulatorState;
use super::server::{Routed, known, run_call};
use super::wire::Service;

/// The JSON services an in-process call can reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InProcService {
    LicenseManager,
    Organizations,
}

/// What an in-process call answers instead of a body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// An AWS error answer: its HTTP status, error code (`__type`) and message.
    #[error("{code}: {message}")]
    Api {
        status: u16,
        code: String,
        message: String,
    },
    /// The answer was lost after the operation ran (a `LostResponse` fault), as a closed
    /// connection loses it over HTTP.
    #[error("the response was lost")]
    Lost,
}

impl EmulatorState {
    /// Calls `op` of `service` as `account` with `body` (the request's JSON members), as an
    /// SDK client signed for the home region would; answers the response's JSON.
    pub async fn call_json(
        &self,
        service: InProcService,
        account: &str,
        op: &str,
        body: &Value,
    ) -> Result<Value, CallError> {
        let service = match service {
            InProcService::LicenseManager => Service::LicenseManager,
            InProcService::Organizations => Service::Organizations,
        };
        let api = |e: super::wire::ApiError| CallError::Api {
            status: e.status,
            code: e.code.to_owned(),
            message: e.message,
        };
        let uri = hyper::Uri::from_static("/");
        if let Err(e) = known(self, service, op, &hyper::Method::POST, "/") {
            self.record_error(op, e.code);
            return Err(api(e));
        }
        let access_key = format!("ACCT{account}");
        let bytes = serde_json::to_vec(body).unwrap_or_default();
        let request_id = format!("inproc-{op}");
        let call = Routed {
            service,
            op,
            access_key: &access_key,
            region: None,
            form: None,
            uri: &uri,
            request_id: &request_id,
        };
        match run_call(self, &call, &bytes).await {
            Err(_lost) => Err(CallError::Lost),
            Ok(Err(e)) => Err(api(e)),
            Ok(Ok(text)) if text.is_empty() => Ok(Value::Object(Default::default())),
            Ok(Ok(text)) => serde_json::from_str(&text).map_err(|e| CallError::Api {
                status: 500,
                code: "MalformedResponse".to_owned(),
                message: format!("the emulator answered JSON that does not parse: {e}"),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::emulator::{EmulatorOptions, ScriptedFault, Seed};

    const LICENSE: &str =
        "arn:aws:license-manager::294406891311:license:l-0c1a0de35a7d4f3e9b21c4d5e6f70811";

    fn create(token: &str) -> Value {
        json!({
            "ClientToken": token,
            "GrantName": "g",
            "LicenseArn": LICENSE,
            "Principals": ["arn:aws:iam::222233334444:root"],
            "HomeRegion": "us-east-1",
            "AllowedOperations": ["CheckoutLicense"],
        })
    }

    #[tokio::test(start_paused = true)]
    async fn scripted_faults_come_first_in_order_then_calls_are_handled() {
        let emu = EmulatorState::new(Seed::sandbox(), EmulatorOptions::default()).unwrap();
        let lm = InProcService::LicenseManager;
        emu.script_faults(
            "CreateGrant",
            [
                ScriptedFault::Validation("no".to_owned()),
                ScriptedFault::LostResponse,
            ],
        );
        let before = emu.grants().len();
        let refused = emu
            .call_json(lm, "111122223333", "CreateGrant", &create("t1"))
            .await;
        assert_eq!(
            refused,
            Err(CallError::Api {
                status: 400,
                code: "ValidationException".to_owned(),
                message: "no".to_owned()
            })
        );
        assert_eq!(emu.grants().len(), before, "refused before it was handled");
        let lost = emu
            .call_json(lm, "111122223333", "CreateGrant", &create("t1"))
            .await;
        assert_eq!(lost, Err(CallError::Lost));
        assert_eq!(emu.grants().len(), before + 1, "handled, then lost");
        // The retry is answered from the client token: the same grant.
        let again = emu
            .call_json(lm, "111122223333", "CreateGrant", &create("t1"))
            .await
            .unwrap();
        assert_eq!(again["GrantArn"], json!(emu.grants().last().unwrap().arn));
        assert!(emu.scripted_faults().is_empty());
        assert_eq!(emu.call_count("CreateGrant"), 3);
        assert_eq!(emu.lost_counts().get("CreateGrant"), Some(&1));
    }

    #[tokio::test(start_paused = true)]
    async fn the_caller_is_the_named_account_and_unknown_operations_are_refused() {
        let emu = EmulatorState::new(Seed::sandbox(), EmulatorOptions::default()).unwrap();
        let lm = InProcService::LicenseManager;
        let member = emu
            .call_json(lm, "222233334444", "CreateGrant", &create("t2"))
            .await;
        assert!(
            matches!(&member, Err(CallError::Api { code, .. }) if code == "ValidationException"),
            "a member did not receive the license: {member:?}"
        );
        let unknown = emu.call_json(lm, "111122223333", "Nope", &json!({})).await;
        assert!(
            matches!(&unknown, Err(CallError::Api { code, .. }) if code == "UnknownOperationException"),
            "{unknown:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn timed_workflows_follow_paused_time() {
        let opts = EmulatorOptions {
            account_workflow_ms: 5_000,
            ..EmulatorOptions::default()
        };
        let emu = EmulatorState::new(Seed::sandbox(), opts).unwrap();
        let lm = InProcService::LicenseManager;
        let made = emu
            .call_json(lm, "111122223333", "CreateGrant", &create("t3"))
            .await
            .unwrap();
        let arn = made["GrantArn"].as_str().unwrap().to_owned();
        let status = || emu.grant(&arn).unwrap().status;
        tokio::time::advance(std::time::Duration::from_millis(4_999)).await;
        assert_eq!(status(), "PENDING_WORKFLOW");
        tokio::time::advance(std::time::Duration::from_millis(1)).await;
        assert_eq!(status(), "DISABLED");
    }
}
