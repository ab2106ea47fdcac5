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
