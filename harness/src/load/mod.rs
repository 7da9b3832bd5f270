//! The load generator: goose 0.19 drives the users on a runtime of their own (see `runtime`);
//! the open model (fixed arrival rate) is built on top with per-user schedules and precise
//! timers (see `pacing`), and every request is recorded into HdrHistograms by `recorder`.

pub mod mix;
pub mod pacing;
pub mod recorder;
pub mod runtime;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use goose::GooseAttack;
use goose::config::{GooseConfiguration, GooseDefault, GooseDefaultType as _};
use goose::goose::{
    GooseMethod, GooseRequest, GooseUser, Scenario, Transaction, TransactionFunction,
};
use rand::Rng as _;
use rand::SeedableRng as _;

use self::mix::Vars;
use self::pacing::{PreciseTimer, Schedule};
use self::recorder::{Outcome, Recorder};
use crate::scenario::{Load, Model, RequestSpec};

/// One run's load: where, how much, and when the measured window is.
#[derive(Debug, Clone)]
pub struct LoadPlan {
    /// Target base URL, e.g. `http://127.0.0.1:40123`.
    pub base_url: String,
    /// The scenario's load.
    pub load: Load,
    /// Random per run, for `{run}` placeholders.
    pub run_id: String,
    /// When the schedules start (set-up happens before).
    pub start: Instant,
    /// The first user's id (`{user}`): 0, or in a shard of a scaled-out run the users of the
    /// instances before it, so that ids do not collide across instances.
    pub first_user: u32,
    /// How much later than `start` this instance's slot 0 is due: 0, or in shard `i` of a
    /// scaled-out run `i / total rate`, so that the instances' slots interleave into the
    /// single-instance schedule instead of arriving together.
    pub phase: Duration,
}

impl LoadPlan {
    /// The measured window: after the warm-up, for the duration.
    pub fn window(&self) -> (Instant, Instant) {
        let from = self.start + Duration::from_secs_f64(self.load.warmup_s);
        (from, from + Duration::from_secs_f64(self.load.duration_s))
    }
}

/// Time allowed for users to start and run their set-up steps before the schedules begin.
pub fn setup_allowance(users: u32) -> Duration {
    Duration::from_millis(1000 + 30 * u64::from(users))
}

/// A user's state between transactions.
#[derive(Debug, Default, Clone)]
struct UserState {
    vars: Vars,
    seq: u64,
    k: u64,
    rng: Option<rand::rngs::SmallRng>,
    /// When this user's previous request ended: a slot that comes earlier finds the user held
    /// by the target, not late by the generator's fault.
    last_done: Option<Instant>,
    /// Sleeps until this user's next slot (rate model; made on the first one).
    timer: Option<Arc<PreciseTimer>>,
}

struct Shared {
    plan: LoadPlan,
    recorder: Arc<Recorder>,
    cumulative: Vec<u64>,
    total_weight: u64,
    /// Set once a user has fallen back to coarse pacing (warned once per run).
    coarse_warned: AtomicBool,
}

fn method(name: &str) -> GooseMethod {
    match name.to_ascii_uppercase().as_str() {
        "POST" => GooseMethod::Post,
        "PUT" => GooseMethod::Put,
        "DELETE" => GooseMethod::Delete,
        "PATCH" => GooseMethod::Patch,
        "HEAD" => GooseMethod::Head,
        _ => GooseMethod::Get,
    }
}

fn error_kind(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timeout".into()
    } else if e.is_connect() {
        "connection refused or reset".into()
    } else {
        let text = e.to_string();
        format!("request error: {}", &text[..text.len().min(80)])
    }
}

/// Builds the request of template `spec` from the user's variables: everything but sending it,
/// so that a rate-model user can do it before it waits for its slot and send on time.
fn prepare<'a>(
    user: &GooseUser,
    spec: &'a RequestSpec,
    vars: &Vars,
    timeout: Duration,
) -> Result<GooseRequest<'a>, String> {
    let path = mix::render(&spec.path, vars)?;
    let body = spec.body.as_ref().map(|b| mix::body(b, vars)).transpose()?;
    let mut builder = user
        .get_request_builder(&method(&spec.method), &path)
        .map_err(|e| format!("bad request: {e}"))?
        .timeout(timeout);
    if let Some(b) = &body {
        builder = builder.json(b);
    }
    for (k, v) in &spec.headers {
        builder = builder.header(k.as_str(), mix::render(v, vars)?);
    }
    Ok(GooseRequest::builder()
        .set_request_builder(builder)
        .name(spec.name.as_str())
        .build())
}

/// Sends `request` (made by [`prepare`] from `spec`, or the reason it could not be); returns
/// when it was actually sent, when it was done (body read), and how it ended. Captures go into
/// `vars`.
async fn dispatch(
    user: &mut GooseUser,
    request: Result<GooseRequest<'_>, String>,
    spec: &RequestSpec,
    vars: &mut Vars,
) -> (Instant, Instant, Outcome) {
    let request = match request {
        Ok(r) => r,
        Err(e) => {
            let now = Instant::now();
            return (now, now, Err(e));
        }
    };
    let sent = Instant::now();
    let outcome = match user.request(request).await {
        Err(e) => Err(format!("request error: {e}")),
        Ok(response) => match response.response {
            Err(e) => Err(error_kind(&e)),
            Ok(r) => {
                let status = r.status().as_u16();
                match r.bytes().await {
                    Err(e) => Err(error_kind(&e)),
                    Ok(bytes) => {
                        let ok = spec
                            .expect
                            .map_or((200..300).contains(&status), |e| e == status);
                        if ok {
                            mix::capture(spec, &bytes, vars)
                        } else {
                            Err(match spec.expect {
                                Some(e) => format!("status {status} (expected {e})"),
                                None => format!("status {status} (expected 2xx)"),
                            })
                        }
                    }
                }
            }
        },
    };
    (sent, Instant::now(), outcome)
}

/// Prepares and sends one request (see [`prepare`] and [`dispatch`]).
async fn send(
    user: &mut GooseUser,
    spec: &RequestSpec,
    vars: &mut Vars,
    timeout: Duration,
) -> (Instant, Instant, Outcome) {
    let request = prepare(user, spec, vars, timeout);
    dispatch(user, request, spec, vars).await
}

fn state_of(user: &mut GooseUser) -> UserState {
    user.get_session_data_mut::<UserState>()
        .map(std::mem::take)
        .unwrap_or_default()
}

fn setup_transaction(shared: Arc<Shared>) -> TransactionFunction {
    Arc::new(move |user: &mut GooseUser| {
        let shared = shared.clone();
        Box::pin(async move {
            let index = user.weighted_users_index;
            let id = u64::from(shared.plan.first_user) + index as u64;
            let mut st = UserState {
                rng: Some(rand::rngs::SmallRng::seed_from_u64(id ^ 0x6f74_656c)),
                ..UserState::default()
            };
            st.vars.insert("user".into(), id.to_string());
            st.vars.insert("run".into(), shared.plan.run_id.clone());
            st.vars.insert("seq".into(), "0".into());
            let timeout = Duration::from_secs_f64(shared.plan.load.timeout_s);
            for step in &shared.plan.load.setup {
                let (_, _, outcome) = send(user, step, &mut st.vars, timeout).await;
                shared.recorder.count_unmeasured();
                if let Err(e) = outcome {
                    // Visible as failures of every request that needs what this step provides.
                    tracing_free_warn(&format!(
                        "user {index}: set-up step {:?} failed: {e}",
                        step.name
                    ));
                }
            }
            user.set_session_data(st);
            Ok(())
        })
    })
}

/// Set-up failures are rare and worth one line each; goose's own per-request warnings are off.
fn tracing_free_warn(message: &str) {
    eprintln!("otelbench: {message}");
}

/// A user without a working precise timer (the process ran out of file descriptors, say)
/// falls back to tokio's millisecond timer: the scheduling lag shows the cost, and the run's
/// validity check judges it.
fn coarse_pacing(shared: &Shared, index: usize, e: &std::io::Error) {
    if shared.coarse_warned.swap(true, Ordering::Relaxed) {
        return;
    }
    tracing_free_warn(&format!(
        "user {index}: precise pacing timer unavailable ({e}); using tokio's 1 ms timer"
    ));
}

/// Waits until `intended` on the user's precise timer (made at its first slot), or on tokio's
/// coarse timer when no precise one can be had.
async fn wait_for_slot(user: &mut GooseUser, shared: &Shared, index: usize, intended: Instant) {
    let timer = user
        .get_session_data::<UserState>()
        .and_then(|s| s.timer.clone())
        .or_else(|| {
            let t = PreciseTimer::new()
                .map_err(|e| coarse_pacing(shared, index, &e))
                .ok()
                .map(Arc::new);
            if let Some(st) = user.get_session_data_mut::<UserState>() {
                st.timer.clone_from(&t);
            }
            t
        });
    let precise = match &timer {
        Some(t) => t
            .sleep_until(intended)
            .await
            .map_err(|e| coarse_pacing(shared, index, &e)),
        None => Err(()),
    };
    if precise.is_err() {
        tokio::time::sleep_until(intended.into()).await;
    }
}

fn main_transaction(shared: Arc<Shared>) -> TransactionFunction {
    Arc::new(move |user: &mut GooseUser| {
        let shared = shared.clone();
        Box::pin(async move {
            let index = user.weighted_users_index;
            let (_, end) = shared.recorder.window();
            let mut st = state_of(user);
            let draw = st
                .rng
                .get_or_insert_with(|| rand::rngs::SmallRng::seed_from_u64(index as u64))
                .random_range(0..shared.total_weight.max(1));
            let spec = &shared.plan.load.requests[mix::pick(&shared.cumulative, draw)];
            let timeout = Duration::from_secs_f64(shared.plan.load.timeout_s);
            let mut seq = st.vars.clone();
            seq.insert("seq".into(), (st.seq + 1).to_string());
            let (intended, request) = match shared.plan.load.model {
                // A capacity search runs each step as an open-model window at its rate.
                Model::Rate | Model::Capacity => {
                    let rate = shared.plan.load.rate.unwrap_or(1.0);
                    let schedule = Schedule::new(
                        shared.plan.start + shared.plan.phase,
                        rate,
                        shared.plan.load.users,
                        index as u32,
                    );
                    let intended = schedule.intended(st.k);
                    if intended >= end {
                        // Done: idle until goose ends the attack.
                        user.set_session_data(st);
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        return Ok(());
                    }
                    // Built before the wait, so that it leaves on time.
                    let request = prepare(user, spec, &seq, timeout);
                    user.set_session_data(st);
                    wait_for_slot(user, &shared, index, intended).await;
                    st = state_of(user);
                    (intended, Some(request))
                }
                Model::Users => {
                    let now = Instant::now();
                    if now >= end {
                        user.set_session_data(st);
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        return Ok(());
                    }
                    (now, None)
                }
            };
            st.k += 1;
            st.seq += 1;
            st.vars = seq;
            let request = request.unwrap_or_else(|| prepare(user, spec, &st.vars, timeout));
            let (sent, done, outcome) = dispatch(user, request, spec, &mut st.vars).await;
            let (intended, free) = if shared.plan.load.model == Model::Users {
                (sent, sent)
            } else {
                (intended, st.last_done.unwrap_or(intended))
            };
            st.last_done = Some(done);
            shared.recorder.record(
                &spec.name,
                recorder::Times {
                    intended,
                    free,
                    sent,
                    done,
                },
                &outcome,
            );
            user.set_session_data(st);
            Ok(())
        })
    })
}

/// Runs the load described by `plan`, recording into `recorder`. Returns when goose has ended
/// the attack (shortly after the measured window).
pub async fn drive(plan: LoadPlan, recorder: Arc<Recorder>) -> anyhow::Result<()> {
    let users = plan.load.users.max(1);
    let (_, end) = plan.window();
    let cumulative = mix::cumulative(&plan.load.requests);
    let total_weight = cumulative.last().copied().unwrap_or(0);
    let run_time = end
        .saturating_duration_since(Instant::now())
        .as_secs_f64()
        .ceil() as usize
        + 1;
    let base_url = plan.base_url.clone();
    let timeout = format!("{}", plan.load.timeout_s.ceil() as u64);
    let shared = Arc::new(Shared {
        plan,
        recorder,
        cumulative,
        total_weight,
        coarse_warned: AtomicBool::new(false),
    });
    let scenario = Scenario::new("otelbench")
        .register_transaction(Transaction::new(setup_transaction(shared.clone())).set_on_start())
        .register_transaction(Transaction::new(main_transaction(shared.clone())));
    let attack = GooseAttack::initialize_with_config(GooseConfiguration::default())
        .context("initialising goose")?
        .register_scenario(scenario)
        .set_default(GooseDefault::Host, base_url.as_str())?
        .set_default(GooseDefault::Users, users as usize)?
        .set_default(GooseDefault::IncreaseRate, format!("{users}").as_str())?
        .set_default(GooseDefault::RunTime, run_time)?
        .set_default(GooseDefault::Timeout, timeout.as_str())?
        .set_default(GooseDefault::Quiet, 1_usize)?
        .set_default(GooseDefault::NoTelnet, true)?
        .set_default(GooseDefault::NoMetrics, true)?
        .set_default(GooseDefault::NoPrintMetrics, true)?
        .set_default(GooseDefault::NoErrorSummary, true)?;
    Box::pin(attack.execute())
        .await
        .map(|_| ())
        .map_err(|e| anyhow::anyhow!("goose: {e}"))
}
