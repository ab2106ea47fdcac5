//! The HTTP side: one hyper server on one address serving both JSON services, STS and the admin
//! endpoint. Each API request goes: count → latency → rate limit → fault (scripted, else random)
//! → caller → IAM policy → operation (`run_call`, which in-process calls share); a lost response
//! applies the operation and then closes the connection.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::faults::{Fault, ScriptedFault, decide};
use super::identity::{Caller, parse_authorization, resolve};
use super::state::World;
use super::wire::{
    ApiError, JSON_CONTENT_TYPE, LM_TARGET_PREFIX, ORG_TARGET_PREFIX, Service, serialization,
};
use super::{EmulatorState, admin, bedrock, iam, license_manager, organizations, sts};

/// Returned by the service to make hyper drop the connection without answering.
#[derive(Debug)]
pub(crate) struct LostResponse;

impl std::fmt::Display for LostResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("response deliberately lost by the emulator's fault injection")
    }
}

impl std::error::Error for LostResponse {}

type Reply = Response<Full<Bytes>>;

/// Accepts connections until `shutdown` flips (or its sender is dropped).
pub(crate) async fn serve(
    listener: TcpListener,
    state: EmulatorState,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = shutdown.changed() => break,
        };
        let (stream, _) = match accepted {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "emulator: accept failed");
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let state = state.clone();
        let mut shutdown = shutdown.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req| {
                let state = state.clone();
                async move { handle(state, req).await }
            });
            let conn = http1::Builder::new().serve_connection(TokioIo::new(stream), svc);
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = shutdown.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
}

async fn handle(state: EmulatorState, req: Request<Incoming>) -> Result<Reply, LostResponse> {
    let (parts, body) = req.into_parts();
    let Ok(collected) = body.collect().await else {
        return Err(LostResponse);
    };
    let bytes = collected.to_bytes();
    let path = parts.uri.path();
    if path.starts_with(admin::PREFIX) {
        return Ok(admin::handle_http(&state, &parts.method, path, &bytes));
    }
    let shared = &state.shared;
    let request_id = request_id(shared.requests.fetch_add(1, Ordering::Relaxed));
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());

    // Which service and operation.
    let bedrock_scoped = header("authorization").and_then(scope_service) == Some("bedrock");
    let (service, op, form) = if bedrock_scoped || bedrock::is_bedrock_path(path) {
        let op = bedrock::operation(&parts.method, path).unwrap_or("UnknownOperation");
        (Service::Bedrock, op.to_owned(), None)
    } else if let Some(target) = header("x-amz-target") {
        if let Some(op) = target.strip_prefix(LM_TARGET_PREFIX) {
            (Service::LicenseManager, op.to_owned(), None)
        } else if let Some(op) = target.strip_prefix(ORG_TARGET_PREFIX) {
            (Service::Organizations, op.to_owned(), None)
        } else {
            let e = ApiError::client(
                "UnknownOperationException",
                format!("Unknown operation {target}"),
            );
            return Ok(json_error(Service::LicenseManager, &e, &request_id));
        }
    } else if parts.method == Method::POST
        && header("content-type")
            .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"))
    {
        let form = sts::parse_form(&bytes);
        let op = form.get("Action").cloned().unwrap_or_default();
        // Both Query services share the address: the signature's credential scope names which.
        let service = match header("authorization").and_then(scope_service) {
            Some("iam") => Service::Iam,
            _ => Service::Sts,
        };
        (service, op, Some(form))
    } else {
        let e = ApiError::client(
            "UnknownOperationException",
            "The request names no operation: send X-Amz-Target (JSON services) or a form-encoded Action (STS)",
        );
        return Ok(json_error(Service::LicenseManager, &e, &request_id));
    };
    if let Err(e) = known(&state, service, &op, &parts.method, path) {
        state.record_error(&op, e.code);
        return Ok(error_reply(service, &e, &request_id));
    }

    let auth = header("authorization").and_then(parse_authorization);
    let Some((access_key, region)) = auth else {
        let e = ApiError::new(
            if service.is_query() { 403 } else { 400 },
            "MissingAuthenticationTokenException",
            "Missing Authentication Token",
        );
        state.record_error(&op, e.code);
        return Ok(error_reply(service, &e, &request_id));
    };
    let call = Routed {
        service,
        op: &op,
        access_key,
        region,
        form: form.as_ref(),
        uri: &parts.uri,
        request_id: &request_id,
    };
    let result = run_call(&state, &call, &bytes).await?;
    Ok(match result {
        Ok(body) if service == Service::Bedrock => {
            let status = bedrock::success_status(&op);
            base(status, REST_JSON_CONTENT_TYPE, &request_id, body)
        }
        Ok(body) => ok_reply(service, body, &request_id),
        Err(e) => error_reply(service, &e, &request_id),
    })
}

/// Refuses an operation the service does not have, or one `unserved_operations` names, as
/// each protocol does.
pub(crate) fn known(
    state: &EmulatorState,
    service: Service,
    op: &str,
    method: &Method,
    path: &str,
) -> Result<(), ApiError> {
    let served = !state.options_arc().unserved_operations.contains(op);
    let known = served
        && match service {
            Service::LicenseManager => license_manager::OPERATIONS.contains(&op),
            Service::Organizations => organizations::OPERATIONS.contains(&op),
            Service::Sts => sts::OPERATIONS.contains(&op),
            Service::Iam => iam::OPERATIONS.contains(&op),
            Service::Bedrock => bedrock::OPERATIONS.contains(&op),
        };
    if known {
        return Ok(());
    }
    Err(match service {
        Service::Sts => ApiError::client(
            "InvalidAction",
            format!("Could not find operation {op} for version 2011-06-15"),
        ),
        Service::Iam => ApiError::client(
            "InvalidAction",
            format!("Could not find operation {op} for version 2010-05-08"),
        ),
        Service::LicenseManager => ApiError::client(
            "UnknownOperationException",
            format!("Unknown operation {LM_TARGET_PREFIX}{op}"),
        ),
        Service::Organizations => ApiError::client(
            "UnknownOperationException",
            format!("Unknown operation {ORG_TARGET_PREFIX}{op}"),
        ),
        Service::Bedrock => ApiError::new(
            404,
            "UnknownOperationException",
            format!("Unknown operation {method} {path}"),
        ),
    })
}

/// An API call once its service, operation and caller's key are known: what `run_call` needs,
/// whether it came over HTTP or in process (`emulator::inproc`).
pub(crate) struct Routed<'a> {
    pub service: Service,
    pub op: &'a str,
    pub access_key: &'a str,
    /// The region the request was signed for (None: the home region).
    pub region: Option<&'a str>,
    /// A Query request's form (STS, IAM).
    pub form: Option<&'a BTreeMap<String, String>>,
    pub uri: &'a hyper::Uri,
    pub request_id: &'a str,
}

/// Runs one routed call: count → latency → rate limit → fault (scripted, else random) → caller
/// → IAM policy → operation. Every error answer is counted. `Err(LostResponse)`: a lost
/// response, after the operation ran.
pub(crate) async fn run_call(
    state: &EmulatorState,
    call: &Routed<'_>,
    bytes: &[u8],
) -> Result<Result<String, ApiError>, LostResponse> {
    let (service, op) = (call.service, call.op);
    let opts = state.options_arc();
    let index = state.count_call(op);
    let latency = opts.latency_for(op);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let fault = if state.take_token(op, &opts) {
        before_handling(state, &opts, service, op, index)
    } else {
        Err(ApiError::throttled(service))
    };
    let result = fault.clone().and_then(|fault| {
        let mut world = state.shared.world.lock().unwrap_or_else(|e| e.into_inner());
        let caller = resolve(&world, call.access_key);
        let context = condition_context(service, op, call.form);
        let context: Vec<(&str, &str)> = context.iter().map(|(k, v)| (*k, v.as_str())).collect();
        authorize(&opts, service, op, &caller, &context)?;
        authorize_tags(&opts, service, op, &caller, bytes)?;
        authorize_subscribe(&opts, service, op, &caller)?;
        let c = Call {
            service,
            op,
            caller: &caller,
            region: call.region,
            empty_page: fault == Fault::EmptyPage,
            request_id: call.request_id,
            uri: call.uri,
        };
        dispatch(&mut world, &opts, &c, bytes, call.form)
    });
    let lost = fault == Ok(Fault::LostResponse);
    // Never log credentials or headers: the operation, the outcome and the request id only.
    tracing::debug!(
        target: "bedrock_entitlements::emulator",
        op = %op,
        outcome = match &result { Ok(_) => "ok", Err(e) => e.code },
        lost,
        request_id = %call.request_id,
        "emulator call"
    );
    if lost {
        state.record_lost(op);
        return Err(LostResponse);
    }
    if let Err(e) = &result {
        state.record_error(op, e.code);
    }
    Ok(result)
}

/// The fault of call number `index` of `op` that happens before it is handled (an error
/// answer), or the one that happens while or after (none, a lost response, an empty page): a
/// scripted fault first, else the random decision.
fn before_handling(
    state: &EmulatorState,
    opts: &super::EmulatorOptions,
    service: Service,
    op: &str,
    index: u64,
) -> Result<Fault, ApiError> {
    let fault = match state.next_scripted(op) {
        Some(ScriptedFault::Validation(message)) => return Err(ApiError::validation(message)),
        Some(ScriptedFault::Throttle) => Fault::Throttle,
        Some(ScriptedFault::ServerError) => Fault::ServerError,
        Some(ScriptedFault::LostResponse) => Fault::LostResponse,
        None => decide(opts.fault_seed, op, index, opts.faults_for(op)),
    };
    match fault {
        Fault::Throttle => Err(ApiError::throttled(service)),
        Fault::ServerError => Err(ApiError::server(service)),
        other => Ok(other),
    }
}

/// The condition keys of a request that the IAM evaluator sees: `iam:AWSServiceName` for
/// CreateServiceLinkedRole (IAM service authorization reference).
fn condition_context(
    service: Service,
    op: &str,
    form: Option<&BTreeMap<String, String>>,
) -> Vec<(&'static str, String)> {
    match (service, op, form.and_then(|f| f.get("AWSServiceName"))) {
        (Service::Iam, "CreateServiceLinkedRole", Some(name)) => {
            vec![("iam:AWSServiceName", name.clone())]
        }
        _ => Vec::new(),
    }
}

fn authorize(
    opts: &super::EmulatorOptions,
    service: Service,
    op: &str,
    caller: &Caller,
    context: &[(&str, &str)],
) -> Result<(), ApiError> {
    let policy = match &caller.role {
        Some(role) => opts.role_policies.get(role),
        None => opts.iam_policy.as_ref(),
    };
    let Some(policy) = policy else {
        return Ok(());
    };
    // STS API reference, GetCallerIdentity: "No permissions are required to perform this
    // operation. If an administrator attaches a policy to your identity that explicitly denies
    // access to the sts:GetCallerIdentity action, you can still perform this operation."
    if service == Service::Sts && op == "GetCallerIdentity" {
        return Ok(());
    }
    let action = format!("{}:{op}", service.iam_prefix());
    allowed_or_denied(policy, service, &action, caller, context)
}

/// `action` under `policy`, or the AccessDenied error AWS words for it.
fn allowed_or_denied(
    policy: &super::PolicyDocument,
    service: Service,
    action: &str,
    caller: &Caller,
    context: &[(&str, &str)],
) -> Result<(), ApiError> {
    if policy.allows_in(action, context) {
        Ok(())
    } else {
        Err(ApiError::access_denied(
            service,
            format!(
                "User: {} is not authorized to perform: {action} because no identity-based policy allows the {action} action",
                caller.arn()
            ),
        ))
    }
}

/// Bedrock user guide, "Grant IAM permissions to request access to Amazon Bedrock foundation
/// models with a product ID": "For an IAM identity to request access to models with a product
/// ID ... The identity must have a policy attached that allows aws-marketplace:Subscribe." Every
/// model the emulator seeds is sold through Marketplace (its agreement makes a Marketplace
/// license appear), so CreateFoundationModelAgreement needs it on every model.
fn authorize_subscribe(
    opts: &super::EmulatorOptions,
    service: Service,
    op: &str,
    caller: &Caller,
) -> Result<(), ApiError> {
    if service != Service::Bedrock || op != "CreateFoundationModelAgreement" {
        return Ok(());
    }
    let policy = match &caller.role {
        Some(role) => opts.role_policies.get(role),
        None => opts.iam_policy.as_ref(),
    };
    match policy {
        Some(policy) => {
            allowed_or_denied(policy, service, "aws-marketplace:Subscribe", caller, &[])
        }
        None => Ok(()),
    }
}

/// Organizations API reference, CreatePolicy: "If the request includes tags, then the requester
/// must have the `organizations:TagResource` permission."
fn authorize_tags(
    opts: &super::EmulatorOptions,
    service: Service,
    op: &str,
    caller: &Caller,
    body: &[u8],
) -> Result<(), ApiError> {
    if service != Service::Organizations || op != "CreatePolicy" {
        return Ok(());
    }
    let tagged = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v.get("Tags")
                .and_then(|t| t.as_array())
                .map(|t| !t.is_empty())
        })
        .unwrap_or(false);
    if tagged {
        authorize(opts, service, "TagResource", caller, &[])
    } else {
        Ok(())
    }
}

/// One API call, as the operations see it.
struct Call<'a> {
    service: Service,
    op: &'a str,
    caller: &'a Caller,
    region: Option<&'a str>,
    empty_page: bool,
    request_id: &'a str,
    uri: &'a hyper::Uri,
}

fn dispatch(
    world: &mut World,
    opts: &super::EmulatorOptions,
    call: &Call<'_>,
    bytes: &[u8],
    form: Option<&BTreeMap<String, String>>,
) -> Result<String, ApiError> {
    let Call {
        service,
        op,
        caller,
        region,
        empty_page,
        request_id,
        uri,
    } = *call;
    match service {
        Service::Sts => {
            let empty = BTreeMap::new();
            sts::handle(world, caller, op, form.unwrap_or(&empty), request_id)
        }
        Service::Iam => {
            let empty = BTreeMap::new();
            let assumable = |role: &str| opts.role_policies.contains_key(role);
            iam::handle(
                world,
                caller,
                op,
                form.unwrap_or(&empty),
                &assumable,
                request_id,
            )
        }
        Service::Bedrock => {
            let req = bedrock::Request {
                caller,
                opts,
                path: uri.path(),
                query: uri.query(),
                body: bytes,
            };
            bedrock::handle(world, &req, op)
        }
        Service::LicenseManager | Service::Organizations => {
            let body: serde_json::Value = if bytes.is_empty() {
                serde_json::Value::Null
            } else {
                serde_json::from_slice(bytes).map_err(|e| {
                    serialization(&format!("the request body is not valid JSON: {e}"))
                })?
            };
            if service == Service::LicenseManager {
                let ctx = license_manager::Ctx {
                    caller,
                    region,
                    opts,
                };
                license_manager::handle(world, &ctx, op, &body)
            } else {
                organizations::handle(world, caller, opts, op, &body, empty_page)
            }
        }
    }
}

fn request_id(n: u64) -> String {
    let h = super::faults::mix64(n);
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        (h >> 32) as u32,
        (h >> 16) as u16,
        (h >> 4) as u16 & 0xfff,
        (n >> 48) as u16 & 0xfff,
        n & 0xffff_ffff_ffff
    )
}

fn base(status: u16, content_type: &'static str, request_id: &str, body: String) -> Reply {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = r.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-amzn-RequestId", v);
    }
    r
}

fn ok_reply(service: Service, body: String, request_id: &str) -> Reply {
    match service {
        Service::Sts | Service::Iam => base(200, "text/xml", request_id, body),
        _ => base(200, JSON_CONTENT_TYPE, request_id, body),
    }
}

/// REST-JSON services (Bedrock) answer `application/json`.
const REST_JSON_CONTENT_TYPE: &str = "application/json";

fn json_error(service: Service, e: &ApiError, request_id: &str) -> Reply {
    let content_type = if service == Service::Bedrock {
        REST_JSON_CONTENT_TYPE
    } else {
        JSON_CONTENT_TYPE
    };
    let mut r = base(e.status, content_type, request_id, e.json_body(service));
    r.headers_mut()
        .insert("x-amzn-ErrorType", HeaderValue::from_static(e.code));
    r
}

fn error_reply(service: Service, e: &ApiError, request_id: &str) -> Reply {
    match service {
        Service::Sts => base(
            e.status,
            "text/xml",
            request_id,
            sts::error_xml(e, request_id),
        ),
        Service::Iam => base(
            e.status,
            "text/xml",
            request_id,
            sts::error_xml_in(iam::XMLNS, e, request_id),
        ),
        _ => json_error(service, e, request_id),
    }
}

/// Binds `addr`; the caller serves the listener.
pub(crate) async fn bind(addr: SocketAddr) -> Result<(TcpListener, SocketAddr), std::io::Error> {
    let l = TcpListener::bind(addr).await?;
    let local = l.local_addr()?;
    Ok((l, local))
}

/// The service of a SigV4 `Authorization` header's credential scope
/// (`Credential=KEY/DATE/REGION/SERVICE/aws4_request`).
fn scope_service(header: &str) -> Option<&str> {
    let cred = header.split("Credential=").nth(1)?;
    cred.split([',', ' ']).next()?.split('/').nth(3)
}
