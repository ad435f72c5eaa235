//! Sweep progress on a terminal (a bar) or in a log (a line every few seconds).

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use dibsim_experiments::sweep::Progress;

pub struct Shown {
    bar: Option<indicatif::ProgressBar>,
    start: Instant,
    last_line: Instant,
    quiet: bool,
}

impl Shown {
    pub fn new(show: bool) -> Shown {
        let bar = (show && std::io::stderr().is_terminal()).then(|| {
            let b = indicatif::ProgressBar::new(0);
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} runs  {rate}  ETA {eta}  {msg}",
                )
                .map(|s| {
                    s.with_key(
                        "rate",
                        |st: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                            let _ = write!(w, "{:.0} runs/s", st.per_sec());
                        },
                    )
                })
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            b
        });
        Shown {
            bar,
            start: Instant::now(),
            last_line: Instant::now(),
            quiet: !show,
        }
    }
}

impl Progress for Shown {
    fn start(&mut self, done: u64, total: u64) {
        self.start = Instant::now();
        if let Some(b) = &self.bar {
            b.set_length(total);
            b.set_position(done);
            b.reset_eta();
        }
    }

    fn advance(&mut self, done: u64, total: u64, ran: u64, failed: u64) -> bool {
        if let Some(b) = &self.bar {
            b.set_position(done);
            if failed > 0 {
                b.set_message(format!("{failed} failed"));
            }
        } else if !self.quiet
            && (self.last_line.elapsed() >= Duration::from_secs(5) || done == total)
        {
            self.last_line = Instant::now();
            let secs = self.start.elapsed().as_secs_f64();
            let rate = ran as f64 / secs.max(1e-9);
            let eta = (total - done) as f64 / rate.max(1e-9);
            eprintln!(
                "sweep: {done}/{total} runs, {rate:.0} runs/s, ETA {eta:.0} s{}",
                if failed > 0 {
                    format!(", {failed} failed")
                } else {
                    String::new()
                }
            );
        }
        true
    }

    fn finish(&mut self) {
        if let Some(b) = &self.bar {
            // The summary line that follows says the same.
            b.finish_and_clear();
        }
    }
}
