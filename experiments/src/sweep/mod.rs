//! Batch parameter sweeps: the sweep file ([`spec`]), running and resuming
//! ([`exec`]), and the rows on disk ([`store`]).

pub mod exec;
pub mod spec;
pub mod store;

pub use exec::{
    execute, merge, AlreadyHolds, Format, Interrupted, Manifest, Options, Progress, Silent,
};
pub use spec::{Shard, Sweep};
