//! Waits on ECS jobs until each is SUCCESS or FAIL, its [`Limits`] deadline passes, or the run
//! is interrupted.
//!
//! [`JobWaiter::wait_one`] polls one job, [`JobWaiter::wait_all`] polls several concurrently and
//! returns their reports in the order given. Statuses other than SUCCESS/FAIL (INIT, RUNNING,
//! unknown ones) keep polling (unknown ones logged). Transient read errors are retried by the
//! client; a fatal read error (404 for a purged job, invalid JSON) ends that job's wait with
//! [`WaitEnd::Error`].
//!
//! # Polling schedule
//!
//! The first read comes **1 s** after the wait starts; each following gap is the previous one
//! **× 1.5**, up to a cap that depends on what the sub-jobs say:
//!
//! * **3 s** normally (single-server jobs always): reads at about 1, 2.5, 4.75, 7.75 s …;
//! * **7 s** while a job of ten servers or more has not finished a single sub-job yet:
//!   nothing is about to end, so reads are saved for the end;
//! * once sub-jobs finish, **0.85 ×** the time the rest should take at the pace they have been
//!   finishing, kept between **0.25 s** and **3 s**: the read lands just before the last
//!   server should be up, and the next one, a quarter of a second or so later, just after.
//!   Two paces predict it, the one since the last read and the one since the first read that
//!   saw a sub-job finish, and the sooner prediction wins: the recent pace follows a change,
//!   the longer one is not fooled by a few sub-jobs that happened to finish together.
//!
//! Gaps are measured from the start of one read to the start of the next, so a slow read
//! does not stretch the schedule.
//!
//! Why these numbers:
//!
//! * **Latency.** Apply should learn that a job finished within 3 s of its end. Start times
//!   spread over 15–35 s, so a batch's servers finish at a steady pace, and the pace predicts
//!   the end: near it the gaps shrink towards 0.25 s. For batches of 1000 such servers the
//!   end is seen about 0.13 s late on average and within 0.25 s in 99 jobs of 100 (a 1 s
//!   floor and a 5 s idle cap would give 0.5 s and 1 s). A fleet waits
//!   for its slowest job, so the tail is what a user sees. A single-server job never waits
//!   more than 3 s. The one case that can see an end up to 7 s late is a job of many servers
//!   that all end at the same instant after a long idle phase; real start times are not like
//!   that.
//! * **Load.** Each job is read about `duration / 3 s + 3` times at most (a constant 1 s poll
//!   would read a 30 s job 30 times). The reads near the end are paid for by fewer in the
//!   idle phase, where nothing can be learnt: a batch of 1000 with 15–35 s starts is read
//!   12.7 times on average (12.5 with a 1 s floor and a 5 s idle cap), within its budget
//!   of 14. `docs/benchmarks.md` has the measured counts.
//! * **Quick jobs.** Jobs on idle servers can end in a few seconds; the 1 s first read and
//!   the slow ramp catch those early instead of after a full gap.
//!
//! The deadline bounds everything: reads (and the client's retries inside them) give up at
//! the deadline, and a read that would be scheduled at or after the deadline is not made: the
//! wait ends with [`WaitEnd::DeadlineReached`] when the deadline comes. An interrupt ends a
//! sleep or an in-flight read at once (the read's future is dropped, closing its request).

use std::time::Duration;

use tokio::time::Instant;

use super::client::EcsClient;
use super::error::ApiError;
use super::limits::{Limits, Stop};
use super::models::{Job, JobStatus};

/// The fewest sub-jobs for which the idle cap applies.
const IDLE_MIN_SUB_JOBS: usize = 10;

/// The shortest gap between two reads of a job, whatever the policy says (no busy loop).
const MIN_GAP: Duration = Duration::from_millis(1);

/// How often jobs are read. See `Default` for the numbers and why.
#[derive(Debug, Clone, PartialEq)]
pub struct PollPolicy {
    pub first_delay: Duration,
    pub factor: f64,
    /// The cap on gaps, unless the sub-jobs say otherwise.
    pub max_delay: Duration,
    /// The cap while a job of several servers has no finished sub-job yet.
    pub idle_max_delay: Duration,
    /// The share of the predicted rest of a job to wait before the next read (at most 1):
    /// below 1, that read comes just before the predicted end.
    pub predicted_share: f64,
    /// The shortest gap the predicted end of a job's last sub-job may bring.
    pub min_predicted_delay: Duration,
}

impl Default for PollPolicy {
    /// First read after 1 s, gaps × 1.5, capped at 3 s (7 s before any sub-job of a
    /// multi-server job ends, 0.85 of the predicted rest but at least 0.25 s once sub-jobs
    /// finish): see the module documentation.
    fn default() -> Self {
        Self {
            first_delay: Duration::from_secs(1),
            factor: 1.5,
            max_delay: Duration::from_secs(3),
            idle_max_delay: Duration::from_secs(7),
            predicted_share: 0.85,
            min_predicted_delay: Duration::from_millis(250),
        }
    }
}

impl PollPolicy {
    /// A fixed schedule: `first`, then × `factor` up to `max`, whatever the sub-jobs say.
    pub fn fixed(first: Duration, factor: f64, max: Duration) -> Self {
        Self {
            first_delay: first,
            factor,
            max_delay: max,
            idle_max_delay: max,
            predicted_share: 1.0,
            min_predicted_delay: max,
        }
    }

    /// The cap on the next gap. `progress` is what the last read showed: (sub-jobs, finished
    /// ones); `paces` how fast sub-jobs have been finishing (the soonest end they predict
    /// counts).
    pub fn cap_for(&self, progress: (usize, usize), paces: &[Pace]) -> Duration {
        let (total, done) = progress;
        if total <= 1 {
            return self.max_delay;
        }
        if done == 0 {
            // With only a few servers, all of them may end in one long idle gap.
            return if total >= IDLE_MIN_SUB_JOBS {
                self.idle_max_delay
            } else {
                self.max_delay
            };
        }
        let left = total.saturating_sub(done);
        paces
            .iter()
            .filter_map(|pace| pace.time_for(left))
            .min()
            .map_or(self.max_delay, |rest| {
                rest.mul_f64(self.predicted_share.clamp(0.0, 1.0))
                    .clamp(self.min_predicted_delay.min(self.max_delay), self.max_delay)
            })
    }

    /// The gap after `gap`: `gap × factor`, capped at `max_delay` (a factor below 1 or not a
    /// number counts as 1), and never below 1 ms.
    pub fn next_gap(&self, gap: Duration) -> Duration {
        self.next_gap_capped(gap, self.max_delay)
    }

    /// Like [`next_gap`](Self::next_gap) with another cap.
    pub fn next_gap_capped(&self, gap: Duration, cap: Duration) -> Duration {
        let factor = if self.factor.is_finite() && self.factor >= 1.0 {
            self.factor
        } else {
            1.0
        };
        let grown = Duration::try_from_secs_f64(gap.as_secs_f64() * factor).unwrap_or(cap);
        grown.min(cap).max(MIN_GAP)
    }

    /// The first gap, never below 1 ms.
    pub fn first_gap(&self) -> Duration {
        self.first_delay.max(MIN_GAP)
    }
}

/// Sub-jobs that finished over a stretch of time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pace {
    pub finished: usize,
    pub over: Duration,
}

impl Pace {
    /// How long `left` more sub-jobs take at this pace; `None` when it tells nothing (none
    /// finished, or no time passed).
    fn time_for(self, left: usize) -> Option<Duration> {
        if self.finished == 0 || self.over.is_zero() {
            return None;
        }
        Duration::try_from_secs_f64(self.over.as_secs_f64() * left as f64 / self.finished as f64)
            .ok()
    }
}

/// (sub-jobs, finished sub-jobs) of a read.
fn progress(job: &Job) -> (usize, usize) {
    let subs = job.sub_jobs();
    let done = subs
        .iter()
        .filter(|s| s.status.as_ref().is_some_and(JobStatus::is_terminal))
        .count();
    (subs.len(), done)
}

/// How the wait on one job ended.
#[derive(Debug, Clone)]
pub enum WaitEnd {
    /// The job reached SUCCESS or FAIL.
    Finished,
    /// The deadline passed first.
    DeadlineReached,
    /// Interrupted from outside.
    Interrupted,
    /// Reading the job failed for good.
    Error(ApiError),
}

/// One server's outcome, from a sub-job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerOutcome {
    pub server_id: String,
    pub status: JobStatus,
    pub error_code: Option<String>,
    pub fail_reason: Option<String>,
    pub errorcode_message: Option<String>,
}

/// The result of waiting on one job.
#[derive(Debug, Clone)]
pub struct JobReport {
    pub job_id: String,
    pub end: WaitEnd,
    /// The last successful read of the job, if any.
    pub last: Option<Job>,
    /// How many times the job was read.
    pub reads: u32,
}

fn non_empty(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

impl JobReport {
    /// Per-server outcomes from the last read's `sub_jobs`, whatever the parent status says.
    ///
    /// * One outcome per sub-job that names a server, in the order of `sub_jobs`; sub-jobs
    ///   without a server id are skipped.
    /// * A sub-job without a status gets `JobStatus::Other("")` (not finished as far as
    ///   anyone knows).
    /// * Empty `error_code` / `fail_reason` / `errorcode_message` strings count as absent.
    /// * A job without sub-jobs whose `entities.server_id` is set (a single-server job)
    ///   gives one outcome built from the parent's status and error fields.
    /// * No read, or no server named anywhere: no outcomes.
    pub fn server_outcomes(&self) -> Vec<ServerOutcome> {
        let Some(job) = &self.last else {
            return Vec::new();
        };
        let subs = job.sub_jobs();
        if subs.is_empty() {
            let server = job
                .entities
                .as_ref()
                .and_then(|e| non_empty(e.server_id.as_deref()));
            return match server {
                Some(server_id) => vec![ServerOutcome {
                    server_id,
                    status: job
                        .status
                        .clone()
                        .unwrap_or(JobStatus::Other(String::new())),
                    error_code: non_empty(job.error_code.as_deref()),
                    fail_reason: non_empty(job.fail_reason.as_deref()),
                    errorcode_message: None,
                }],
                None => Vec::new(),
            };
        }
        subs.iter()
            .filter_map(|sub| {
                Some(ServerOutcome {
                    server_id: non_empty(sub.server_id())?,
                    status: sub
                        .status
                        .clone()
                        .unwrap_or(JobStatus::Other(String::new())),
                    error_code: non_empty(sub.error_code.as_deref()),
                    fail_reason: non_empty(sub.fail_reason.as_deref()),
                    errorcode_message: non_empty(sub.errorcode_message()),
                })
            })
            .collect()
    }

    /// The job's last known status.
    pub fn status(&self) -> Option<&JobStatus> {
        self.last.as_ref()?.status.as_ref()
    }
}

pub struct JobWaiter {
    client: EcsClient,
    policy: PollPolicy,
}

impl JobWaiter {
    pub fn new(client: EcsClient, policy: PollPolicy) -> Self {
        Self { client, policy }
    }

    pub fn policy(&self) -> &PollPolicy {
        &self.policy
    }

    /// Polls `job_id` until it finishes or `limits` stop the wait.
    pub async fn wait_one(&self, job_id: &str, limits: &Limits) -> JobReport {
        let client = self.client.with_deadline(limits.deadline);
        let mut report = JobReport {
            job_id: job_id.to_string(),
            end: WaitEnd::DeadlineReached,
            last: None,
            reads: 0,
        };
        let mut schedule = Schedule::new(&self.policy, Instant::now());
        let mut last_status = None;
        loop {
            if let Err(stop) = limits.sleep_until(schedule.next_read).await {
                report.end = stop.into();
                break;
            }
            let read_started = Instant::now();
            report.reads += 1;
            match limits
                .bound("reading the job", client.show_job(job_id))
                .await
            {
                Ok(job) => {
                    let status = job.status.clone();
                    report.last = Some(job);
                    if note_status(job_id, status.as_ref(), last_status.as_ref(), report.reads) {
                        report.end = WaitEnd::Finished;
                        break;
                    }
                    last_status = status;
                }
                Err(e) => {
                    report.end = WaitEnd::from(e);
                    break;
                }
            }
            schedule.after_read(read_started, report.last.as_ref());
        }
        report
    }

    pub async fn wait_all(&self, job_ids: &[String], limits: &Limits) -> Vec<JobReport> {
        futures::future::join_all(job_ids.iter().map(|job_id| self.wait_one(job_id, limits))).await
    }
}

/// When the next read of one job is due: the policy applied to what the reads showed.
struct Schedule<'a> {
    policy: &'a PollPolicy,
    gap: Duration,
    last_read: Instant,
    last_progress: (usize, usize),
    /// The first read that saw a sub-job finished, and how many it saw.
    first_progress: Option<(Instant, usize)>,
    next_read: Instant,
}

impl<'a> Schedule<'a> {
    fn new(policy: &'a PollPolicy, now: Instant) -> Self {
        let gap = policy.first_gap();
        Self {
            policy,
            gap,
            last_read: now,
            last_progress: (0, 0),
            first_progress: None,
            next_read: now + gap,
        }
    }

    fn after_read(&mut self, read_started: Instant, job: Option<&Job>) {
        self.after_progress(read_started, job.map(progress).unwrap_or((0, 0)));
    }

    /// Schedules the next read after one that started at `read_started` and saw `now`
    /// (sub-jobs, finished ones).
    fn after_progress(&mut self, read_started: Instant, now: (usize, usize)) {
        let since = |at: Instant, before: usize| Pace {
            finished: now.1.saturating_sub(before),
            over: read_started.saturating_duration_since(at),
        };
        let mut paces = vec![since(self.last_read, self.last_progress.1)];
        match self.first_progress {
            Some((at, before)) => paces.push(since(at, before)),
            None if now.1 > 0 => self.first_progress = Some((read_started, now.1)),
            None => {}
        }
        let cap = self.policy.cap_for(now, &paces);
        self.last_progress = now;
        self.last_read = read_started;
        self.gap = self.policy.next_gap_capped(self.gap, cap);
        self.next_read = read_started + self.gap;
    }
}

/// Logs what a read showed; true when the job has finished.
fn note_status(
    job_id: &str,
    status: Option<&JobStatus>,
    last: Option<&JobStatus>,
    reads: u32,
) -> bool {
    match status {
        Some(s) if s.is_terminal() => {
            tracing::debug!(job_id, status = %s, reads, "job finished");
            true
        }
        Some(JobStatus::Init | JobStatus::Running) => {
            tracing::debug!(job_id, status = %status.map_or("", JobStatus::as_str), "job not finished yet");
            false
        }
        _ => {
            if status != last {
                tracing::info!(
                    job_id,
                    status = status.map_or("<none>", JobStatus::as_str),
                    "job has a status this provider does not know; polling on"
                );
            }
            false
        }
    }
}

impl From<Stop> for WaitEnd {
    fn from(stop: Stop) -> Self {
        match stop {
            Stop::DeadlineReached => WaitEnd::DeadlineReached,
            Stop::Interrupted => WaitEnd::Interrupted,
        }
    }
}

impl From<ApiError> for WaitEnd {
    /// How a failed read ends the wait.
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::DeadlineExceeded { .. } => WaitEnd::DeadlineReached,
            ApiError::Cancelled(_) => WaitEnd::Interrupted,
            e => {
                tracing::debug!(error = %e, "reading the job failed");
                WaitEnd::Error(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::models::{JobEntities, SubJob, SubJobEntities};

    #[test]
    fn default_schedule_meets_the_targets() {
        let p = PollPolicy::default();
        // Read times for the default policy.
        let mut times = Vec::new();
        let mut gap = p.first_gap();
        let mut t = gap.as_secs_f64();
        while t < 400.0 {
            times.push(t);
            assert!(gap <= Duration::from_secs(3));
            gap = p.next_gap(gap);
            t += gap.as_secs_f64();
        }
        assert_eq!(&times[..4], &[1.0, 2.5, 4.75, 7.75]);
        // A job ending at `d` is seen at the first read at or after `d`: within 3 s, and
        // after at most d/3 + 3 reads.
        for tenth in 0..3000 {
            let d = f64::from(tenth) / 10.0;
            let idx = times.iter().position(|&t| t >= d).expect("read after d");
            assert!(times[idx] - d <= 3.0 + 1e-9, "d={d}");
            let reads = (idx + 1) as f64;
            assert!(reads <= d / 3.0 + 3.0, "d={d}: {reads} reads");
        }
    }

    /// A job of `ends.len()` servers whose sub-jobs end at `ends` (seconds): the read times
    /// the default policy makes until it sees the last end.
    fn reads_for(ends: &[f64]) -> Vec<f64> {
        let policy = PollPolicy::default();
        let t0 = Instant::now();
        let mut schedule = Schedule::new(&policy, t0);
        let last = ends.iter().copied().fold(0.0, f64::max);
        let mut times = Vec::new();
        loop {
            let t = (schedule.next_read - t0).as_secs_f64();
            times.push(t);
            if t >= last {
                return times;
            }
            let done = ends.iter().filter(|&&e| e <= t).count();
            schedule.after_progress(schedule.next_read, (ends.len(), done));
        }
    }

    #[test]
    fn sub_jobs_steer_the_schedule_for_big_batches() {
        // 1000 servers whose starts take 15-35 s, as the cloud documents.
        let ends: Vec<f64> = (0..1000)
            .map(|i| 15.0 + 20.0 * f64::from(i) / 999.0)
            .collect();
        let times = reads_for(&ends);
        let seen = times.last().copied().unwrap_or_default();
        assert!(
            seen - 35.0 <= 0.3 + 1e-9,
            "seen {seen:.2} s, 0.3 s after the end at most"
        );
        assert!(
            times.len() <= 35 / 3 + 3,
            "{} reads: {times:?}",
            times.len()
        );
        // Before any server is up, gaps grow to 7 s.
        assert!(times.windows(2).any(|w| w[1] - w[0] > 6.9), "{times:?}");
        // Ends spread over 100 s: still within 3 s, within budget.
        let ends: Vec<f64> = (0..100).map(|i| 2.0 + f64::from(i)).collect();
        let times = reads_for(&ends);
        assert!(times.last().copied().unwrap_or_default() - 101.0 <= 3.0 + 1e-9);
        assert!(
            times.len() as f64 <= 101.0 / 3.0 + 3.0,
            "{} reads",
            times.len()
        );
    }

    #[test]
    fn the_end_of_a_big_batch_is_seen_soon_within_the_read_budget() {
        use rand::{Rng, SeedableRng};
        // 200 batches of 1000 servers, each start drawn from 15-35 s as ecs-sim does.
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let (mut lags, mut reads) = (Vec::new(), 0);
        for _ in 0..200 {
            let ends: Vec<f64> = (0..1000).map(|_| rng.gen_range(15.0..35.0)).collect();
            let last = ends.iter().copied().fold(0.0, f64::max);
            let times = reads_for(&ends);
            assert!(
                times.len() <= 35 / 3 + 3,
                "{} reads: {times:?}",
                times.len()
            );
            reads += times.len();
            lags.push(times.last().copied().unwrap_or_default() - last);
        }
        lags.sort_by(f64::total_cmp);
        let mean = lags.iter().sum::<f64>() / lags.len() as f64;
        // The slowest of a hundred jobs is what a fleet of 100,000 waits for.
        let p99 = lags[lags.len() * 99 / 100];
        assert!(mean <= 0.2, "mean lag {mean:.3} s");
        assert!(p99 <= 0.3, "99th percentile lag {p99:.3} s");
        // The reads near the end are paid for in the idle phase: hardly more than a 1 s floor
        // and a 5 s idle cap make (12.5).
        let per_job = reads as f64 / lags.len() as f64;
        assert!(per_job <= 12.8, "{per_job:.2} reads a job");
    }

    #[test]
    fn odd_factors_do_not_panic() {
        for factor in [f64::NAN, -1.0, 0.0, f64::INFINITY, 1e300] {
            let p = PollPolicy::fixed(Duration::ZERO, factor, Duration::from_secs(3));
            let g = p.next_gap(p.first_gap());
            assert!(g >= MIN_GAP && g <= Duration::from_secs(3));
        }
    }

    fn sub(server: Option<&str>, status: Option<JobStatus>, code: Option<&str>) -> SubJob {
        SubJob {
            status,
            entities: Some(SubJobEntities {
                server_id: server.map(str::to_string),
                nic_id: None,
                errorcode_message: code.map(|_| "detail".to_string()),
            }),
            job_id: None,
            job_type: None,
            begin_time: None,
            end_time: None,
            error_code: code.map(str::to_string),
            fail_reason: code.map(|_| "reason".to_string()),
        }
    }

    fn job(status: JobStatus, entities: JobEntities) -> Job {
        Job {
            status: Some(status),
            entities: Some(entities),
            job_id: Some("j".into()),
            job_type: None,
            begin_time: None,
            end_time: None,
            error_code: Some("".into()),
            fail_reason: None,
            code: None,
            message: None,
        }
    }

    fn report(job: Option<Job>) -> JobReport {
        JobReport {
            job_id: "j".into(),
            end: WaitEnd::Finished,
            last: job,
            reads: 1,
        }
    }

    #[test]
    fn outcomes_come_from_sub_jobs_whatever_the_parent_says() {
        let j = job(
            JobStatus::Success,
            JobEntities {
                sub_jobs_total: Some(3),
                sub_jobs: Some(vec![
                    sub(Some("s1"), Some(JobStatus::Success), None),
                    sub(Some("s2"), Some(JobStatus::Fail), Some("Ecs.0226")),
                    sub(None, Some(JobStatus::Success), None),
                    sub(Some("s3"), None, None),
                ]),
                ..Default::default()
            },
        );
        let out = report(Some(j)).server_outcomes();
        assert_eq!(out.len(), 3);
        assert_eq!(out[0].server_id, "s1");
        assert_eq!(out[0].error_code, None);
        assert_eq!(out[1].status, JobStatus::Fail);
        assert_eq!(out[1].error_code.as_deref(), Some("Ecs.0226"));
        assert_eq!(out[1].fail_reason.as_deref(), Some("reason"));
        assert_eq!(out[1].errorcode_message.as_deref(), Some("detail"));
        assert_eq!(out[2].status, JobStatus::Other(String::new()));
    }

    #[test]
    fn single_server_job_without_sub_jobs() {
        let mut j = job(
            JobStatus::Fail,
            JobEntities {
                server_id: Some("s9".into()),
                ..Default::default()
            },
        );
        j.error_code = Some("Ecs.0226".into());
        let out = report(Some(j)).server_outcomes();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].server_id, "s9");
        assert_eq!(out[0].status, JobStatus::Fail);
        assert_eq!(out[0].error_code.as_deref(), Some("Ecs.0226"));
        assert!(report(None).server_outcomes().is_empty());
        let bare = job(JobStatus::Success, JobEntities::default());
        assert!(report(Some(bare)).server_outcomes().is_empty());
    }
}
