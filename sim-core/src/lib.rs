//! dibsim-core: the simulation engine of dibsim.
//!
//! One job: advance a world of allies, contractors and competitor exporters
//! month by month, exactly as `docs/model.md` states, and record what happened.
//! A month is synchronous: all allies decide in parallel from the same
//! start-of-month quotes, then the sequential phases resolve those decisions
//! in a fixed order with the world's own random stream. That split is what
//! makes output bit-identical for any number of threads.
//!
//! The core reads no files and knows no plugin or command line: scenarios
//! arrive as text or values, behaviours as trait objects ([`behaviour`]).

pub mod behaviour;
mod buffers;
pub mod compiled;
pub mod compose;
pub mod error;
pub mod ledger;
pub mod metrics;
mod prefetch;
pub mod rng;
pub mod run;
pub mod scenario;
pub mod stats;
mod validate;
pub mod world;

pub use behaviour::{Behaviours, Investment, Procurement};
pub use compiled::Compiled;
pub use error::{RunError, ScenarioError};
pub use ledger::{OrderRecord, Outcome};
pub use metrics::{ExporterMonth, Recorder};
pub use scenario::Scenario;
pub use world::World;

/// The version of the model this engine implements, as `docs/model.md`
/// states it. It changes when any documented rule or draw changes, and is
/// written into every output's summary and manifest.
pub const MODEL_VERSION: &str = "v1";
