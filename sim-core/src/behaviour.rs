//! Behaviour slots: the decisions docs/model.md marks **[pluggable]**.
//!
//! A behaviour sees plain observations and writes plain decisions into
//! buffers the core owns; it never touches world state. That keeps the same
//! interface usable by built-in Rust code and by a C-ABI plugin, and lets the
//! core check every decision before acting on it. Randomness is handed in
//! (`Offer::draw`, `Requirement::outside_draw`), drawn by the core from the
//! agent's own stream, so a behaviour cannot break reproducibility.

use std::sync::Arc;

use crate::scenario::Tier;

/// One line's quote to one requirement (docs/model.md step 2).
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C)]
pub struct Offer {
    pub line: u32,
    pub exporter: u32,
    pub quality: f64,
    pub price_index: f64,
    /// W_l: expected months to delivery.
    pub wait_months: f64,
    /// S_l: spread of the approval time, months.
    pub spread_months: f64,
    /// a(e, i) of the line's exporter with the buying ally.
    pub alignment: f64,
    /// rho_e of the line's exporter.
    pub reputation: f64,
    /// A uniform draw in (0, 1) from the ally's stream, one per offer.
    pub draw: f64,
}

/// One requirement of one ally, with its offers `offers[offer_start..offer_start+offer_count]`.
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C)]
pub struct Requirement {
    pub ally: u32,
    pub category: u32,
    /// Q, TIV.
    pub size: f64,
    /// theta_i in force this month (events applied).
    pub threat: f64,
    /// A uniform draw in (0, 1) for the outside option.
    pub outside_draw: f64,
    pub offer_start: u32,
    pub offer_count: u32,
}

/// An ally's weights (docs/model.md s.3), as a behaviour sees them.
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C)]
pub struct Taste {
    pub beta_quality: f64,
    pub beta_price: f64,
    pub beta_time: f64,
    pub beta_uncertainty: f64,
    pub beta_alignment: f64,
    pub outside_utility: f64,
}

/// `choices[k]` for requirement k: the index of the chosen offer within the
/// requirement's own offers, or [`OUTSIDE`] to drop the requirement.
pub const OUTSIDE: i32 = -1;

/// Everything a procurement behaviour decides over, for a batch of requirements.
#[derive(Debug, Clone, Copy)]
pub struct ProcurementBatch<'a> {
    pub month: i32,
    /// Indexed by `Requirement::ally`.
    pub tastes: &'a [Taste],
    pub requirements: &'a [Requirement],
    pub offers: &'a [Offer],
}

/// Why a behaviour could not decide; stops the run with context.
#[derive(Debug, Clone, PartialEq)]
pub struct BehaviourFault {
    pub message: String,
    /// The requirement or line (index in the batch) it failed on, if one:
    /// the run's error then names that agent.
    pub item: Option<usize>,
}

impl BehaviourFault {
    pub fn new(message: impl Into<String>) -> BehaviourFault {
        BehaviourFault {
            message: message.into(),
            item: None,
        }
    }
}

/// docs/model.md step 5: which offer each requirement takes.
pub trait Procurement: Send + Sync {
    fn name(&self) -> &str;
    fn choose(
        &self,
        batch: &ProcurementBatch<'_>,
        choices: &mut [i32],
    ) -> Result<(), BehaviourFault>;
    /// `true` if each requirement's choice depends on nothing but the
    /// requirement, its offers and the tastes (no state, nothing read across
    /// the batch): the core may then hand it any split of a month's
    /// requirements, in parallel, and must get the same choices. A plugin
    /// says nothing of the kind, and gets whole batches.
    fn per_requirement(&self) -> bool {
        false
    }
    /// This behaviour for a new run, with fresh per-run state (a plugin's);
    /// `None` when it has none and can be shared.
    fn for_run(&self) -> Result<Option<Arc<dyn Procurement>>, BehaviourFault> {
        Ok(None)
    }
    /// A copy holding this run's state as it is now, for a fork of the run.
    fn fork(&self) -> Option<Arc<dyn Procurement>> {
        None
    }
}

/// One line as an investment behaviour sees it (docs/model.md step 10).
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C)]
pub struct LineView {
    pub line: u32,
    pub owner: u32,
    pub category: u32,
    pub tier: u32,
    /// K_l, TIV/month.
    pub capacity: f64,
    /// Capacity ordered, not yet online.
    pub pipeline: f64,
    pub backlog_domestic: f64,
    /// Approved foreign orders not yet produced: the order book.
    pub backlog_foreign_approved: f64,
    /// m = (B_dom + B_for,approved) / (K + pipeline).
    pub backlog_months: f64,
    /// Owner's cash, US$ M, before this month's tranches.
    pub cash: f64,
    pub credit_limit: f64,
    /// US$ M per TIV/month of capacity, before subsidy.
    pub capex_per_unit: f64,
    /// Share of capex the government pays.
    pub subsidy: f64,
    /// invest_threshold' and target' (subsidy applied), months.
    pub threshold_months: f64,
    pub target_months: f64,
    pub max_growth: f64,
    /// A uniform draw in (0, 1) from the owner's stream.
    pub draw: f64,
}

impl LineView {
    pub fn tier(&self) -> Tier {
        if self.tier == 0 {
            Tier::High
        } else {
            Tier::Low
        }
    }
}

/// docs/model.md step 10: the tranche each line orders. `tranches[k]` is the
/// capacity (TIV/month) line k orders, 0 for none; the core shrinks it to the
/// owner's credit and never lets it be negative.
pub trait Investment: Send + Sync {
    fn name(&self) -> &str;
    /// Whether `LineView::draw` is used (drawing costs time; the built-in
    /// rule draws nothing).
    fn uses_draws(&self) -> bool {
        false
    }
    fn invest(
        &self,
        month: i32,
        lines: &[LineView],
        tranches: &mut [f64],
    ) -> Result<(), BehaviourFault>;
    /// As [`Procurement::for_run`].
    fn for_run(&self) -> Result<Option<Arc<dyn Investment>>, BehaviourFault> {
        Ok(None)
    }
    /// As [`Procurement::fork`].
    fn fork(&self) -> Option<Arc<dyn Investment>> {
        None
    }
}

/// Which behaviour each agent uses. Index 0 of each list is the default.
#[derive(Clone)]
pub struct Behaviours {
    pub procurement: Vec<Arc<dyn Procurement>>,
    /// Per ally: index into `procurement`.
    pub ally_procurement: Vec<u16>,
    pub investment: Vec<Arc<dyn Investment>>,
    /// Per owner (suppliers in scenario order): index into `investment`.
    pub owner_investment: Vec<u16>,
}

impl Behaviours {
    /// The behaviours of one run: each gets its per-run state.
    pub fn for_run(&self) -> Result<Behaviours, (String, BehaviourFault)> {
        let mut b = self.clone();
        for p in &mut b.procurement {
            if let Some(q) = p.for_run().map_err(|f| (p.name().to_string(), f))? {
                *p = q;
            }
        }
        for p in &mut b.investment {
            if let Some(q) = p.for_run().map_err(|f| (p.name().to_string(), f))? {
                *p = q;
            }
        }
        Ok(b)
    }

    /// A copy with every per-run state copied as it is now.
    pub fn fork(&self) -> Behaviours {
        let mut b = self.clone();
        for p in &mut b.procurement {
            if let Some(q) = p.fork() {
                *p = q;
            }
        }
        for p in &mut b.investment {
            if let Some(q) = p.fork() {
                *p = q;
            }
        }
        b
    }
}
