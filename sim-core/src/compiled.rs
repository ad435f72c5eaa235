//! The scenario compiled to indexed, per-entity parameters.
//!
//! Names are resolved to indices once, here, so the monthly loop works on
//! plain vectors. A compiled scenario is immutable and shared (`Arc`) by all
//! runs and forks of the scenario.

use crate::scenario::{OwnerKind, Scenario, Tier};

#[derive(Debug, Clone)]
pub struct CategoryParams {
    pub size_mean: f64,
    /// mu of the lognormal: ln(mean) - sigma^2 / 2, so the mean is `size_mean`.
    pub size_mu: f64,
    pub size_sigma: f64,
    pub capex_per_unit: f64,
    pub span: f64,
}

#[derive(Debug, Clone)]
pub struct ExporterParams {
    pub approval_mean: f64,
    pub approval_cv: f64,
    pub deny_base: f64,
    pub variant_delay: f64,
    /// TIV/month by category index.
    pub domestic_demand: Vec<f64>,
    pub domestic_priority: bool,
}

#[derive(Debug, Clone)]
pub struct OwnerParams {
    pub exporter: usize,
    pub kind: OwnerKind,
    pub cash: f64,
    pub credit_limit: f64,
}

#[derive(Debug, Clone)]
pub struct LineParams {
    pub owner: usize,
    pub exporter: usize,
    pub category: usize,
    pub tier: Tier,
    /// Capacity when the line comes online.
    pub capacity: f64,
    pub quality: f64,
    pub price_index: f64,
    pub ln_price: f64,
    pub build_months: u32,
    /// First month the line exists; the warm-up start for ordinary lines.
    pub online_month: i32,
}

#[derive(Debug, Clone)]
pub struct AllyParams {
    pub region: usize,
    pub import_budget: f64,
    /// Cumulative category shares, for drawing a category from one uniform.
    pub mix_cdf: Vec<f64>,
    /// Mean program size over the ally's mix.
    pub mean_size: f64,
    pub taste: crate::behaviour::Taste,
    pub patience: f64,
    pub advance_share: f64,
    /// a(e, i) by exporter index (0 for the ally's own nation).
    pub alignment: Vec<f64>,
    pub priority_partner: bool,
}

/// An ally's terms for its orders (a copy of part of [`AllyParams`]).
#[derive(Debug, Clone, Copy)]
pub struct OrderTerms {
    pub patience: f64,
    pub advance_share: f64,
    pub region: u32,
    pub priority_partner: bool,
}

#[derive(Debug, Clone)]
pub struct Compiled {
    pub scenario: Scenario,
    pub warmup: i32,
    pub months: i32,
    pub focal: usize,
    pub categories: Vec<CategoryParams>,
    pub exporters: Vec<ExporterParams>,
    pub owners: Vec<OwnerParams>,
    /// Ordinary lines first, then low-tier lines of the policy: a policy-free
    /// scenario's lines are a prefix of the same scenario with levers.
    pub lines: Vec<LineParams>,
    pub lines_by_category: Vec<Vec<u32>>,
    /// Each owner's lines, in line order (investment is decided per owner).
    pub lines_by_owner: Vec<Vec<u32>>,
    /// High-tier lines of (exporter, category), else its low-tier lines: where
    /// domestic orders go (docs/model.md step 3).
    pub domestic_lines: Vec<Vec<Vec<u32>>>,
    pub allies: Vec<AllyParams>,
    /// `allies[i].taste` for all i, contiguous for behaviour batches.
    pub tastes: Vec<crate::behaviour::Taste>,
    /// What step 6 reads of `allies[i]` for each order, contiguous: in a
    /// large world the full parameters are a cache miss an order.
    pub order_terms: Vec<OrderTerms>,
    pub regions: Vec<String>,
    /// (region, factor, from, to).
    pub events: Vec<(usize, f64, i32, i32)>,
    /// (line, capacity, online month).
    pub new_factories: Vec<(u32, f64, i32)>,
}

impl Compiled {
    /// Compiles a validated scenario.
    pub fn new(s: &Scenario) -> Compiled {
        let ncat = s.categories.len();
        let cat = |n: &str| s.category_index(n).expect("validated category");
        let exp = |n: &str| s.exporter_index(n).expect("validated exporter");
        let categories = s
            .categories
            .iter()
            .map(|c| CategoryParams {
                size_mean: c.program_size_mean,
                size_mu: c.program_size_mean.ln() - c.program_size_sigma.powi(2) / 2.0,
                size_sigma: c.program_size_sigma,
                capex_per_unit: c.capex_per_unit,
                span: c.delivery_span_months,
            })
            .collect::<Vec<_>>();
        let exporters = s
            .exporters
            .iter()
            .map(|e| {
                let mut dd = vec![0.0; ncat];
                for (c, v) in &e.domestic_demand {
                    dd[cat(c)] = *v;
                }
                ExporterParams {
                    approval_mean: e.approval_mean_months,
                    approval_cv: e.approval_cv,
                    deny_base: e.deny_base,
                    variant_delay: e.export_variant_delay_months,
                    domestic_demand: dd,
                    domestic_priority: e.domestic_priority,
                }
            })
            .collect::<Vec<_>>();
        let warmup = s.warmup_months as i32;
        let owners = s
            .suppliers
            .iter()
            .map(|o| OwnerParams {
                exporter: exp(&o.exporter),
                kind: o.kind,
                cash: o.cash,
                credit_limit: o.credit_limit,
            })
            .collect::<Vec<_>>();
        let mut lines = Vec::new();
        for (oi, o) in s.suppliers.iter().enumerate() {
            for l in &o.lines {
                lines.push(LineParams {
                    owner: oi,
                    exporter: owners[oi].exporter,
                    category: cat(&l.category),
                    tier: l.tier,
                    capacity: l.capacity,
                    quality: l.quality,
                    price_index: l.price_index,
                    ln_price: l.price_index.ln(),
                    build_months: l.build_months,
                    online_month: -warmup,
                });
            }
        }
        let p = &s.policy;
        let owner_index = |n: &str| {
            s.suppliers
                .iter()
                .position(|o| o.name == n)
                .expect("validated owner")
        };
        for lt in &p.low_tier {
            let oi = owner_index(&lt.owner);
            lines.push(LineParams {
                owner: oi,
                exporter: owners[oi].exporter,
                category: cat(&lt.category),
                tier: Tier::Low,
                capacity: lt.capacity,
                quality: lt.quality,
                price_index: lt.price_index,
                ln_price: lt.price_index.ln(),
                build_months: lt.build_months,
                online_month: p.start_month + p.low_tier_lead_months as i32,
            });
        }
        let mut lines_by_category = vec![Vec::new(); ncat];
        for (li, l) in lines.iter().enumerate() {
            lines_by_category[l.category].push(li as u32);
        }
        let mut lines_by_owner = vec![Vec::new(); owners.len()];
        for (li, l) in lines.iter().enumerate() {
            lines_by_owner[l.owner].push(li as u32);
        }
        let mut domestic_lines = vec![vec![Vec::new(); ncat]; exporters.len()];
        for (e, per_cat) in domestic_lines.iter_mut().enumerate() {
            for (c, chosen) in per_cat.iter_mut().enumerate() {
                let of_tier = |t: Tier| {
                    lines
                        .iter()
                        .enumerate()
                        .filter(|(_, l)| l.exporter == e && l.category == c && l.tier == t)
                        .map(|(i, _)| i as u32)
                        .collect::<Vec<_>>()
                };
                let high = of_tier(Tier::High);
                *chosen = if high.is_empty() {
                    of_tier(Tier::Low)
                } else {
                    high
                };
            }
        }
        let new_factories = p
            .new_factories
            .iter()
            .map(|nf| {
                let oi = owner_index(&nf.owner);
                let c = cat(&nf.category);
                let li = lines
                    .iter()
                    .position(|l| l.owner == oi && l.category == c && l.tier == nf.tier)
                    .expect("validated new factory line");
                (li as u32, nf.capacity, nf.online_month)
            })
            .collect();

        let regions = s.regions();
        let region_index: std::collections::BTreeMap<&str, usize> = regions
            .iter()
            .enumerate()
            .map(|(k, r)| (r.as_str(), k))
            .collect();
        let region_of = |name: &str| region_index.get(name).copied().unwrap_or(0);
        let allies: Vec<AllyParams> = s
            .allies
            .iter()
            .map(|a| {
                let mut w = vec![0.0; ncat];
                for (c, v) in &a.mix {
                    w[cat(c)] = *v;
                }
                let mut acc = 0.0;
                let mix_cdf = w
                    .iter()
                    .map(|x| {
                        acc += x;
                        acc
                    })
                    .collect::<Vec<_>>();
                let mean_size = w
                    .iter()
                    .zip(&categories)
                    .map(|(x, c)| x * c.size_mean)
                    .sum();
                let alignment = s
                    .exporters
                    .iter()
                    .map(|e| {
                        if e.name == a.name {
                            0.0 // An ally never buys from its own nation.
                        } else {
                            *a.alignment.get(&e.name).unwrap_or(&a.default_alignment)
                        }
                    })
                    .collect();
                AllyParams {
                    region: region_of(&a.region),
                    import_budget: a.import_budget,
                    mix_cdf,
                    mean_size,
                    taste: crate::behaviour::Taste {
                        beta_quality: a.beta_quality,
                        beta_price: a.beta_price,
                        beta_time: a.beta_time,
                        beta_uncertainty: a.beta_uncertainty,
                        beta_alignment: a.beta_alignment,
                        outside_utility: a.outside_utility,
                    },
                    patience: a.patience,
                    advance_share: a.advance_share,
                    alignment,
                    priority_partner: p.priority_partners.contains(&a.name),
                }
            })
            .collect();
        let events = s
            .events
            .iter()
            .map(|e| {
                let r = region_of(&e.region);
                (r, e.factor, e.from_month, e.to_month)
            })
            .collect();
        let tastes = allies.iter().map(|a: &AllyParams| a.taste).collect();
        let order_terms = allies
            .iter()
            .map(|a| OrderTerms {
                patience: a.patience,
                advance_share: a.advance_share,
                region: a.region as u32,
                priority_partner: a.priority_partner,
            })
            .collect();
        Compiled {
            tastes,
            order_terms,
            scenario: s.clone(),
            warmup,
            months: s.months as i32,
            focal: exp(&s.focal_exporter),
            categories,
            exporters,
            owners,
            lines,
            lines_by_category,
            lines_by_owner,
            domestic_lines,
            allies,
            regions,
            events,
            new_factories,
        }
    }

    /// Whether levers are in force in month `t`.
    #[inline]
    pub fn policy_on(&self, t: i32) -> bool {
        t >= self.scenario.policy.start_month
    }
}
