//! The scenario: every parameter of a run, as plain data.
//!
//! A scenario file is TOML. Every struct here denies unknown fields and gives
//! each field the default docs/model.md states, so a file only writes what differs
//! and a typo is an error rather than a silently ignored setting. The resolved
//! [`Scenario`] is the single source of truth for a run: `dibsim validate
//! --print` writes it back out with every value explicit.
//!
//! Composition (`extends`, `--set`) happens on TOML trees in [`compose`], before
//! this typed layer, so that an override can touch any field by its path.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::error::ScenarioError;

/// Production tier of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    High,
    Low,
}

impl Tier {
    /// As scenario files and output tables write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::High => "high",
            Tier::Low => "low",
        }
    }
}

/// Which behaviour slot a supplier agent fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum OwnerKind {
    /// A firm of the focal exporter.
    #[default]
    Contractor,
    /// A foreign exporter's export industry, as one agent.
    Competitor,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Scenario {
    /// Set by the loader from the file name when absent.
    pub name: String,
    pub description: String,
    /// Path (relative to this file) of a scenario this one overrides. Consumed
    /// by the loader; empty in a resolved scenario.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub extends: String,
    /// Calendar year of month 0.
    pub start_year: i32,
    /// Reported months (after the warm-up).
    pub months: u32,
    /// Months simulated before month 0 and never reported (docs/model.md s.4).
    pub warmup_months: u32,
    /// Name of the exporter whose firms are the contractors and whom levers act on.
    pub focal_exporter: String,
    pub model: ModelParams,
    pub categories: Vec<Category>,
    pub exporters: Vec<Exporter>,
    pub suppliers: Vec<Supplier>,
    pub allies: Vec<Ally>,
    pub events: Vec<Event>,
    pub policy: Policy,
    /// Behaviour plugins, in order: a later entry overrides an earlier one
    /// for the agents and slots both name.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub plugins: Vec<PluginSpec>,
}

/// `[[plugins]]`: a shared library that replaces the built-in behaviour of
/// some agents in some slots. The core only checks the names; the CLI loads
/// the library.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginSpec {
    /// The library; a relative path is resolved against the scenario file
    /// that names it.
    pub path: String,
    /// Any of `procurement`, `contractor_investment`, `competitor_investment`.
    pub slots: Vec<String>,
    /// `"all"`, a list of ally or supplier names, or `{ region = "..." }` (allies).
    #[serde(default)]
    pub agents: Agents,
    /// Handed to the plugin as a JSON object.
    #[serde(default)]
    pub params: toml::Table,
}

pub const PLUGIN_SLOTS: &[&str] = &[
    "procurement",
    "contractor_investment",
    "competitor_investment",
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Agents {
    /// `"all"`.
    Keyword(String),
    Names(Vec<String>),
    Region {
        region: String,
    },
}

impl Default for Agents {
    fn default() -> Self {
        Agents::Keyword("all".into())
    }
}

impl Scenario {
    /// Moves the top-level field named `key` from `from` into `self`; false
    /// for a name that is not a field.
    pub fn take_field(&mut self, from: &mut Scenario, key: &str) -> bool {
        use std::mem::swap;
        match key {
            "name" => swap(&mut self.name, &mut from.name),
            "description" => swap(&mut self.description, &mut from.description),
            "start_year" => self.start_year = from.start_year,
            "months" => self.months = from.months,
            "warmup_months" => self.warmup_months = from.warmup_months,
            "focal_exporter" => swap(&mut self.focal_exporter, &mut from.focal_exporter),
            "model" => swap(&mut self.model, &mut from.model),
            "categories" => swap(&mut self.categories, &mut from.categories),
            "exporters" => swap(&mut self.exporters, &mut from.exporters),
            "suppliers" => swap(&mut self.suppliers, &mut from.suppliers),
            "allies" => swap(&mut self.allies, &mut from.allies),
            "events" => swap(&mut self.events, &mut from.events),
            "policy" => swap(&mut self.policy, &mut from.policy),
            "plugins" => swap(&mut self.plugins, &mut from.plugins),
            _ => return false,
        }
        true
    }
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario {
            name: String::new(),
            description: String::new(),
            extends: String::new(),
            start_year: 2020,
            months: 192,
            warmup_months: 120,
            focal_exporter: "United States".into(),
            model: ModelParams::default(),
            categories: Vec::new(),
            exporters: Vec::new(),
            suppliers: Vec::new(),
            allies: Vec::new(),
            events: Vec::new(),
            policy: Policy::default(),
            plugins: Vec::new(),
        }
    }
}

/// Global mechanism parameters (docs/model.md s.4 defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelParams {
    /// r: persistence of ln(threat).
    pub threat_persistence: f64,
    /// s: standard deviation of the monthly threat shock.
    pub threat_sd: f64,
    /// Share of the price that is the owner's margin over production cost.
    pub margin: f64,
    /// Monthly probability that an overdue, unstarted order is cancelled.
    pub cancel_prob: f64,
    /// lambda: weight of the newest completion in reputation.
    pub reputation_weight: f64,
    pub invest_threshold_months: f64,
    pub target_backlog_months: f64,
    /// Largest tranche, as a share of current capacity.
    pub max_growth: f64,
    /// Lead time of new capacity ordered by investment (the status quo; a lever).
    pub factory_lead_months: u32,
    /// Backlog months under which a line counts as idle for decline.
    pub decline_backlog_months: f64,
    /// Consecutive idle months before a line starts to lose capacity.
    pub decline_after_months: u32,
    /// Share of capacity an idle line loses each month.
    pub decline_rate: f64,
    /// Investment is considered in months where (t + warmup) mod this = 0.
    pub invest_every_months: u32,
    /// Floor of the capacity a line quotes for foreign orders, as a share of K.
    pub min_foreign_share: f64,
}

impl Default for ModelParams {
    fn default() -> Self {
        ModelParams {
            threat_persistence: 0.98,
            threat_sd: 0.05,
            margin: 0.10,
            cancel_prob: 0.1,
            reputation_weight: 0.05,
            invest_threshold_months: 18.0,
            target_backlog_months: 12.0,
            max_growth: 0.25,
            factory_lead_months: 36,
            decline_backlog_months: 3.0,
            decline_after_months: 12,
            decline_rate: 0.01,
            invest_every_months: 3,
            min_foreign_share: 0.05,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Category {
    pub name: String,
    /// Mean size of one requirement, TIV.
    pub program_size_mean: f64,
    /// Shape (sigma of the log) of the lognormal requirement size.
    pub program_size_sigma: f64,
    /// US$ M per TIV/month of new capacity.
    pub capex_per_unit: f64,
    /// Fewest months over which one order is produced.
    pub delivery_span_months: f64,
}

impl Default for Category {
    fn default() -> Self {
        Category {
            name: String::new(),
            program_size_mean: 100.0,
            program_size_sigma: 1.0,
            capex_per_unit: 100.0,
            delivery_span_months: 24.0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Exporter {
    pub name: String,
    pub approval_mean_months: f64,
    pub approval_cv: f64,
    pub deny_base: f64,
    pub export_variant_delay_months: f64,
    /// TIV/month its own forces order, by category name.
    pub domestic_demand: BTreeMap<String, f64>,
    pub domestic_priority: bool,
}

impl Default for Exporter {
    fn default() -> Self {
        Exporter {
            name: String::new(),
            approval_mean_months: 6.0,
            approval_cv: 0.5,
            deny_base: 0.0,
            export_variant_delay_months: 0.0,
            domestic_demand: BTreeMap::new(),
            domestic_priority: true,
        }
    }
}

/// An owner of production lines: a contractor or a competitor exporter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Supplier {
    pub name: String,
    pub exporter: String,
    pub kind: OwnerKind,
    /// US$ M at the start of the warm-up.
    pub cash: f64,
    /// US$ M below zero that new investment may take cash to.
    pub credit_limit: f64,
    pub lines: Vec<LineSpec>,
}

impl Default for Supplier {
    fn default() -> Self {
        Supplier {
            name: String::new(),
            exporter: String::new(),
            kind: OwnerKind::Contractor,
            cash: 0.0,
            credit_limit: 0.0,
            lines: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LineSpec {
    pub category: String,
    pub tier: Tier,
    /// TIV/month at the start of the warm-up.
    pub capacity: f64,
    pub quality: f64,
    /// US$ M per TIV.
    pub price_index: f64,
    /// Months from production to delivery.
    pub build_months: u32,
}

impl Default for LineSpec {
    fn default() -> Self {
        LineSpec {
            category: String::new(),
            tier: Tier::High,
            capacity: 0.0,
            quality: 0.5,
            price_index: 1.0,
            build_months: 12,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Ally {
    pub name: String,
    pub region: String,
    /// TIV/year at threat 1.
    pub import_budget: f64,
    /// Category shares of requirements; sums to 1.
    pub mix: BTreeMap<String, f64>,
    pub beta_quality: f64,
    pub beta_price: f64,
    pub beta_time: f64,
    pub beta_uncertainty: f64,
    pub beta_alignment: f64,
    /// u0: utility of the outside option (drop the requirement).
    pub outside_utility: f64,
    /// phi > 1: an unstarted order older than phi x quoted wait may be cancelled.
    pub patience: f64,
    /// alpha: share of the price paid on approval.
    pub advance_share: f64,
    /// a(e, i) by exporter name; an exporter not listed has `default_alignment`.
    pub alignment: BTreeMap<String, f64>,
    pub default_alignment: f64,
}

impl Default for Ally {
    fn default() -> Self {
        Ally {
            name: String::new(),
            region: String::new(),
            import_budget: 0.0,
            mix: BTreeMap::new(),
            beta_quality: 1.0,
            beta_price: 1.0,
            beta_time: 1.0,
            beta_uncertainty: 1.0,
            beta_alignment: 1.0,
            outside_utility: 0.0,
            patience: 1.5,
            advance_share: 0.2,
            alignment: BTreeMap::new(),
            default_alignment: 0.5,
        }
    }
}

/// A threat shock for a region: theta is multiplied by `factor` in months
/// `from_month..to_month` (end excluded).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Event {
    pub region: String,
    pub factor: f64,
    pub from_month: i32,
    pub to_month: i32,
}

impl Default for Event {
    fn default() -> Self {
        Event {
            region: String::new(),
            factor: 1.0,
            from_month: 0,
            to_month: 0,
        }
    }
}

/// Policy levers of docs/model.md s.5, acting on the focal exporter from `start_month`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Policy {
    pub start_month: i32,
    pub approval_time_factor: f64,
    pub approval_cv_factor: f64,
    pub export_by_design: bool,
    pub factory_subsidy: f64,
    /// Lead time of tranches the focal owners order from start_month on.
    pub factory_lead_months: Option<u32>,
    pub new_factories: Vec<NewFactory>,
    pub low_tier: Vec<LowTierLine>,
    /// Months after start_month that low-tier lines come online.
    pub low_tier_lead_months: u32,
    pub export_reserve: f64,
    pub priority_partners: Vec<String>,
    pub priority_approval_factor: f64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            start_month: 73,
            approval_time_factor: 1.0,
            approval_cv_factor: 1.0,
            export_by_design: false,
            factory_subsidy: 0.0,
            factory_lead_months: None,
            new_factories: Vec::new(),
            low_tier: Vec::new(),
            low_tier_lead_months: 12,
            export_reserve: 0.0,
            priority_partners: Vec::new(),
            priority_approval_factor: 1.0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NewFactory {
    pub owner: String,
    pub category: String,
    pub tier: Tier,
    /// TIV/month added to the owner's line.
    pub capacity: f64,
    pub online_month: i32,
}

impl Default for NewFactory {
    fn default() -> Self {
        NewFactory {
            owner: String::new(),
            category: String::new(),
            tier: Tier::High,
            capacity: 0.0,
            online_month: 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LowTierLine {
    pub category: String,
    pub owner: String,
    pub quality: f64,
    pub price_index: f64,
    pub build_months: u32,
    pub capacity: f64,
}

impl Default for LowTierLine {
    fn default() -> Self {
        LowTierLine {
            category: String::new(),
            owner: String::new(),
            quality: 0.5,
            price_index: 0.5,
            build_months: 6,
            capacity: 0.0,
        }
    }
}

impl Scenario {
    /// The scenario with its policy reset to the status quo: two scenarios with
    /// equal `without_policy()` share their history up to `policy.start_month`.
    pub fn without_policy(&self) -> Scenario {
        let mut s = self.clone();
        s.name.clear();
        s.description.clear();
        s.policy = Policy {
            start_month: self.policy.start_month,
            ..Policy::default()
        };
        s
    }

    pub fn category_index(&self, name: &str) -> Option<usize> {
        self.categories.iter().position(|c| c.name == name)
    }

    /// The allies' regions in order of first appearance: the region index
    /// used by the compiled world and its metrics.
    /// The allies' regions, each once, in the order they first appear.
    pub fn regions(&self) -> Vec<String> {
        let mut seen = std::collections::BTreeSet::new();
        self.allies
            .iter()
            .filter(|a| seen.insert(a.region.as_str()))
            .map(|a| a.region.clone())
            .collect()
    }

    pub fn exporter_index(&self, name: &str) -> Option<usize> {
        self.exporters.iter().position(|e| e.name == name)
    }

    /// Checks every constraint the types cannot express. The error names the
    /// field by its path, as `--set` would write it.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        crate::validate::validate(self)
    }
}
