//! Background CPU work — monitoring windows — on one thread of its own at the lowest CPU
//! priority, so that on a busy machine requests are served first and the reports catch
//! up when there is time (they read the stored log, so nothing is lost while they wait).
//! Tokio's blocking pool would run such work beside inference at the same priority, and
//! on two cores a burst of window reports took a third of serving's throughput.

use std::sync::OnceLock;
use std::sync::mpsc;

use tokio::sync::oneshot;

type Job = Box<dyn FnOnce() + Send + 'static>;

/// The nice value of the background thread: the lowest priority Linux has.
const NICENESS: i32 = 19;

/// Runs `work` on the background thread and waits for its result. `None` if the thread
/// is gone or `work` panicked.
pub(crate) async fn run<T, F>(work: F) -> Option<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (answer, answered) = oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = answer.send(work());
    });
    worker().lock().ok()?.send(job).ok()?;
    answered.await.ok()
}

fn worker() -> &'static std::sync::Mutex<mpsc::Sender<Job>> {
    static WORKER: OnceLock<std::sync::Mutex<mpsc::Sender<Job>>> = OnceLock::new();
    WORKER.get_or_init(|| {
        let (sender, jobs) = mpsc::channel::<Job>();
        let spawned = std::thread::Builder::new()
            .name("bascule-background".to_owned())
            .spawn(move || {
                lower_priority();
                for job in jobs {
                    // A panicking job drops its answer (the caller sees `None`); the
                    // thread goes on with the next.
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                }
            });
        if let Err(error) = spawned {
            tracing::error!(%error, "cannot start the background thread");
        }
        std::sync::Mutex::new(sender)
    })
}

/// Lowers this thread's priority (Linux: `setpriority` on the thread id touches that
/// thread only).
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
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
        let name = run(|| std::thread::current().name().map(str::to_owned)).await;
        assert_eq!(name, Some(Some("bascule-background".to_owned())));
        #[cfg(target_os = "linux")]
        {
            let nice = run(|| rustix::process::getpriority_process(Some(rustix::thread::gettid())))
                .await
                .expect("answered")
                .expect("getpriority");
            assert_eq!(nice, NICENESS);
        }
        let panicked: Option<()> = run(|| panic!("a failing window")).await;
        assert_eq!(panicked, None);
        assert_eq!(run(|| 2 + 2).await, Some(4));
    }
}
