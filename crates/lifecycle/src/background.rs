//! Background CPU work — monitoring windows — on one thread of its own at the lowest CPU
//! priority (`SCHED_IDLE`, nice 19), so that on a busy machine requests are served first
//! and the reports catch up when there is time (they read the stored log, so nothing is
//! lost while they wait). Tokio's blocking pool would run such work beside inference at
//! the same priority, and on two cores a burst of window reports took a third of
//! serving's throughput.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use bascule_core::Error;
use tokio::sync::oneshot;

type Job = Box<dyn FnOnce() + Send + 'static>;

/// The nice value of the background thread: the lowest priority Linux has.
const NICENESS: i32 = 19;

/// Whether the background thread lowers its priority (the default).
static LOW_PRIORITY: AtomicBool = AtomicBool::new(true);

/// Leaves the background thread at normal priority, for a process that waits on its
/// reports rather than serving at full load: `bascule demo` replays traffic at a fixed rate
/// and needs each window's report in time, also on a machine other work keeps busy (at
/// `SCHED_IDLE` a neighbour's load stalled them for seconds). Call before the first job.
pub fn keep_background_at_normal_priority() {
    LOW_PRIORITY.store(false, Ordering::Relaxed);
}

/// Runs `work` (`what`, for the error) on the background thread and waits for its result;
/// an internal error if `work` panicked or the thread could not start.
pub(crate) async fn run<T, F>(what: &str, work: F) -> Result<T, Error>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (answer, answered) = oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = answer.send(work());
    });
    // A job the thread never runs drops its answer, like one that panicked.
    let _ = worker().send(job);
    answered.await.map_err(|_| Error::Internal {
        what: format!("{what} did not finish on the background thread (it panicked)"),
        source: None,
    })
}

fn worker() -> &'static mpsc::Sender<Job> {
    static WORKER: OnceLock<mpsc::Sender<Job>> = OnceLock::new();
    WORKER.get_or_init(|| {
        let (sender, jobs) = mpsc::channel::<Job>();
        let spawned = std::thread::Builder::new()
            .name("bascule-background".to_owned())
            .spawn(move || {
                if LOW_PRIORITY.load(Ordering::Relaxed) {
                    lower_priority();
                }
                for job in jobs {
                    // A panicking job drops its answer (the caller gets an error); the
                    // thread goes on with the next.
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                }
            });
        if let Err(error) = spawned {
            tracing::error!(%error, "cannot start the background thread");
        }
        sender
    })
}

/// Lowers this thread's priority: Linux's `SCHED_IDLE` policy (it runs when no other
/// thread wants the CPU, and a waking thread preempts it), and the highest nice value for
/// where that policy is refused (`setpriority` on the thread id touches that thread only).
/// Under load nice 19 alone still left the reports 176–182 ticks of a 10 s run; with
/// `SCHED_IDLE` 133–136, and serving answered 5–11% more (docs/benchmarks.md).
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        use thread_priority::{
            NormalThreadSchedulePolicy, ThreadPriority, ThreadSchedulePolicy,
            set_thread_priority_and_policy, thread_native_id,
        };
        let idle = ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle);
        if let Err(error) =
            set_thread_priority_and_policy(thread_native_id(), ThreadPriority::Min, idle)
        {
            tracing::warn!(?error, "cannot give the background thread the idle policy");
        }
        let thread = rustix::thread::gettid();
        if let Err(error) = rustix::process::setpriority_process(Some(thread), NICENESS) {
            tracing::warn!(%error, "cannot lower the background thread's priority");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn work_runs_on_the_low_priority_thread_and_survives_a_panic() {
        let name = run("naming", || {
            std::thread::current().name().map(str::to_owned)
        })
        .await;
        assert_eq!(
            name.expect("answered"),
            Some("bascule-background".to_owned())
        );
        #[cfg(target_os = "linux")]
        {
            let nice = run("niceness", || {
                rustix::process::getpriority_process(Some(rustix::thread::gettid()))
            })
            .await
            .expect("answered")
            .expect("getpriority");
            assert_eq!(nice, NICENESS);
            let policy = run("policy", thread_priority::thread_schedule_policy)
                .await
                .expect("answered")
                .expect("the thread's policy");
            assert_eq!(
                policy,
                thread_priority::ThreadSchedulePolicy::Normal(
                    thread_priority::NormalThreadSchedulePolicy::Idle
                )
            );
        }
        let panicked = run("a failing window", || panic!("a failing window")).await;
        let error = panicked.expect_err("a panic is an error");
        assert!(
            error
                .to_string()
                .contains("a failing window did not finish"),
            "{error}"
        );
        assert_eq!(run("sum", || 2 + 2).await.expect("answered"), 4);
    }
}
