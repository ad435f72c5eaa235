//! Semantic checks of a resolved scenario. Field paths in messages use the
//! same `section.Name.field` form that `--set` accepts, so a user can go
//! straight from the message to the fix.

use std::collections::BTreeSet;

use crate::error::ScenarioError;
use crate::scenario::{Scenario, Tier};

type Result = std::result::Result<(), ScenarioError>;

// Field names are built only for a message: validation runs once per sweep
// point, and formatting every name up front was most of its cost.
fn finite(field: impl Fn() -> String, v: f64) -> Result {
    if v.is_finite() {
        Ok(())
    } else {
        Err(ScenarioError::invalid(
            field(),
            format!("{v} is not a finite number"),
        ))
    }
}

fn non_negative(field: impl Fn() -> String, v: f64) -> Result {
    finite(&field, v)?;
    if v < 0.0 {
        return Err(ScenarioError::invalid(
            field(),
            format!("{v} is negative; it must be >= 0"),
        ));
    }
    Ok(())
}

fn positive(field: impl Fn() -> String, v: f64) -> Result {
    finite(&field, v)?;
    if v <= 0.0 {
        return Err(ScenarioError::invalid(field(), format!("{v} must be > 0")));
    }
    Ok(())
}

fn unit(field: impl Fn() -> String, v: f64) -> Result {
    finite(&field, v)?;
    if !(0.0..=1.0).contains(&v) {
        return Err(ScenarioError::invalid(
            field(),
            format!("{v} is outside [0, 1]"),
        ));
    }
    Ok(())
}

fn unique<'a>(section: &str, names: impl Iterator<Item = &'a str>) -> Result {
    let mut seen = BTreeSet::new();
    for (i, n) in names.enumerate() {
        if n.is_empty() {
            return Err(ScenarioError::invalid(
                format!("{section}[{i}].name"),
                "missing name",
            ));
        }
        if !seen.insert(n) {
            return Err(ScenarioError::invalid(
                format!("{section}.{n}"),
                "name appears twice",
            ));
        }
    }
    Ok(())
}

/// A computed number for a message: whole below a billion, else in
/// exponent form (a budget over a programme size of 1e-190 is a 190-digit
/// number), and never rounded to a misleading 0.
fn short(x: f64) -> String {
    if (1.0..1e9).contains(&x.abs()) {
        format!("{x:.0}")
    } else if (1e-3..1.0).contains(&x.abs()) {
        format!("{x:.3}")
    } else {
        format!("{x:.3e}")
    }
}

/// A value as the user wrote it, unless it would be hundreds of digits long.
fn given(x: f64) -> String {
    if x == 0.0 || (1e-3..1e9).contains(&x.abs()) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

/// An ally's mean programme size, mbar_i: its mix's weights times the
/// categories' `program_size_mean`.
fn mean_programme_size(s: &Scenario, a: &crate::scenario::Ally) -> f64 {
    a.mix
        .iter()
        .filter_map(|(c, w)| {
            s.categories
                .iter()
                .find(|k| &k.name == c)
                .map(|k| w * k.program_size_mean)
        })
        .sum()
}

/// How far up the log threat the requirement limit is checked: its mean
/// plus this many of its standard deviations, a level an ally passes about
/// once in 10^9 months.
pub const THREAT_SDS: f64 = 6.0;

/// The requirement limit at a high threat. Step 1's ln theta is an AR(1)
/// from 0, so after k months its sd is s sqrt(1 + r^2 + ... + r^(2(k-1))),
/// largest at the run's last month; events multiply it. A shock sd that
/// lets theta reach thousands would draw orders without end and exhaust
/// memory, so it is refused here rather than found by a run that never ends.
fn threat_stays_bounded(s: &Scenario) -> Result {
    let m = &s.model;
    let (r, sd) = (m.threat_persistence, m.threat_sd);
    let steps = (s.warmup_months + s.months).saturating_sub(1) as i32;
    let variance_sum = if r < 1.0 {
        (1.0 - r.powi(2 * steps)) / (1.0 - r * r)
    } else {
        steps as f64
    };
    let log_high = THREAT_SDS * sd * variance_sum.sqrt();
    for a in &s.allies {
        let mean_size = mean_programme_size(s, a);
        if mean_size <= 0.0 || a.import_budget <= 0.0 {
            continue;
        }
        let rate = a.import_budget / (12.0 * mean_size);
        // Overlapping events multiply: the product of every raising factor
        // of the ally's region bounds any month's.
        let events: f64 = s
            .events
            .iter()
            .filter(|ev| ev.region == a.region)
            .map(|ev| ev.factor.max(1.0))
            .product();
        let high = rate * log_high.exp() * events;
        if high <= MAX_REQUIREMENTS_PER_MONTH {
            continue;
        }
        let (field, cause) = if rate * log_high.exp() > MAX_REQUIREMENTS_PER_MONTH {
            (
                // A random walk's spread grows with the run: there the
                // persistence is the cause, not the shock.
                if r < 1.0 {
                    "model.threat_sd"
                } else {
                    "model.threat_persistence"
                },
                format!(
                    "`model.threat_sd` {} with `model.threat_persistence` {} lets ln theta reach {} ({THREAT_SDS} sd over {} months)",
                    given(sd),
                    given(r),
                    short(log_high),
                    steps + 1
                ),
            )
        } else {
            (
                "events",
                format!(
                    "the events of region `{}` multiply its threat by up to {} (on top of ln theta up to {}, {THREAT_SDS} sd of `model.threat_sd`)",
                    a.region,
                    short(events),
                    short(log_high)
                ),
            )
        };
        return Err(ScenarioError::invalid(
            field,
            format!(
                "{cause}: `allies.{}` would then ask for {} requirements a month, more than the limit of {MAX_REQUIREMENTS_PER_MONTH}; orders would grow without end",
                a.name,
                short(high)
            ),
        ));
    }
    Ok(())
}

/// ": is it a misspelling of `X`?" for the other name closest to `name`
/// (at most two edits away, or differing only in letter case), or nothing.
fn nearest<'a>(name: &str, names: impl Iterator<Item = &'a str>) -> String {
    names
        .filter(|n| *n != name)
        // Edits, a swap of neighbours counting as one.
        .map(|n| {
            (
                strsim::osa_distance(&name.to_lowercase(), &n.to_lowercase()),
                n,
            )
        })
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, n)| format!(": is it a misspelling of `{n}`?"))
        .unwrap_or_default()
}

/// Largest number of exporters: exclusions are a 64-bit set.
pub const MAX_EXPORTERS: usize = 64;

/// Largest number of regions (allies' distinct `region`s): a shipment in
/// flight keeps its buyer's region in 16 bits.
pub const MAX_REGIONS: usize = u16::MAX as usize;

/// The longest run a file may ask for, reported or warm-up: a thousand
/// years of months. Memory grows with months (a run keeps every reported
/// month of every exporter), and a mistyped length would otherwise abort on
/// a failed allocation instead of being refused.
pub const MAX_MONTHS: u32 = 12_000;

/// The most requirements an ally may draw in a month at threat 1. The
/// bundled allies draw well under one; a mistyped budget would otherwise
/// grow orders without end.
pub const MAX_REQUIREMENTS_PER_MONTH: f64 = 10_000.0;

pub fn validate(s: &Scenario) -> Result {
    if s.months == 0 {
        return Err(ScenarioError::invalid("months", "must be at least 1"));
    }
    for (field, v) in [("months", s.months), ("warmup_months", s.warmup_months)] {
        if v > MAX_MONTHS {
            return Err(ScenarioError::invalid(
                field,
                format!(
                    "{v} is more than the limit of {MAX_MONTHS} (1,000 years): every reported month of every exporter is kept in memory, and a run that long is a mistake"
                ),
            ));
        }
    }
    let m = &s.model;
    unit(
        || "model.threat_persistence".to_string(),
        m.threat_persistence,
    )?;
    non_negative(|| "model.threat_sd".to_string(), m.threat_sd)?;
    unit(|| "model.margin".to_string(), m.margin)?;
    unit(|| "model.cancel_prob".to_string(), m.cancel_prob)?;
    unit(
        || "model.reputation_weight".to_string(),
        m.reputation_weight,
    )?;
    positive(
        || "model.invest_threshold_months".to_string(),
        m.invest_threshold_months,
    )?;
    positive(
        || "model.target_backlog_months".to_string(),
        m.target_backlog_months,
    )?;
    non_negative(|| "model.max_growth".to_string(), m.max_growth)?;
    non_negative(
        || "model.decline_backlog_months".to_string(),
        m.decline_backlog_months,
    )?;
    unit(|| "model.decline_rate".to_string(), m.decline_rate)?;
    unit(
        || "model.min_foreign_share".to_string(),
        m.min_foreign_share,
    )?;
    if m.invest_every_months == 0 {
        return Err(ScenarioError::invalid(
            "model.invest_every_months",
            "must be at least 1",
        ));
    }

    if s.categories.is_empty() {
        return Err(ScenarioError::invalid(
            "categories",
            "at least one category is needed",
        ));
    }
    unique("categories", s.categories.iter().map(|c| c.name.as_str()))?;
    for c in &s.categories {
        let f = |x: &str| format!("categories.{}.{x}", c.name);
        positive(|| f("program_size_mean"), c.program_size_mean)?;
        non_negative(|| f("program_size_sigma"), c.program_size_sigma)?;
        non_negative(|| f("capex_per_unit"), c.capex_per_unit)?;
        finite(|| f("delivery_span_months"), c.delivery_span_months)?;
        if c.delivery_span_months < 1.0 {
            return Err(ScenarioError::invalid(
                f("delivery_span_months"),
                "must be at least 1",
            ));
        }
    }
    let category_known = |field: &str, name: &str| -> Result {
        if s.category_index(name).is_none() {
            let known: Vec<&str> = s.categories.iter().map(|c| c.name.as_str()).collect();
            return Err(ScenarioError::invalid(
                field,
                format!("unknown category `{name}` (known: {})", known.join(", ")),
            ));
        }
        Ok(())
    };

    if s.exporters.is_empty() {
        return Err(ScenarioError::invalid(
            "exporters",
            "at least one exporter is needed",
        ));
    }
    if s.exporters.len() > MAX_EXPORTERS {
        return Err(ScenarioError::invalid(
            "exporters",
            format!(
                "{} exporters; at most {MAX_EXPORTERS} are supported",
                s.exporters.len()
            ),
        ));
    }
    unique("exporters", s.exporters.iter().map(|e| e.name.as_str()))?;
    let regions = s.regions().len();
    if regions > MAX_REGIONS {
        return Err(ScenarioError::invalid(
            "allies",
            format!("the allies name {regions} regions; at most {MAX_REGIONS} are supported"),
        ));
    }
    for e in &s.exporters {
        let f = |x: &str| format!("exporters.{}.{x}", e.name);
        non_negative(|| f("approval_mean_months"), e.approval_mean_months)?;
        non_negative(|| f("approval_cv"), e.approval_cv)?;
        unit(|| f("deny_base"), e.deny_base)?;
        non_negative(
            || f("export_variant_delay_months"),
            e.export_variant_delay_months,
        )?;
        for (c, v) in &e.domestic_demand {
            category_known(&f("domestic_demand"), c)?;
            non_negative(|| f(&format!("domestic_demand.{c}")), *v)?;
        }
    }
    let exporter_known = |field: &str, name: &str| -> Result {
        if s.exporter_index(name).is_none() {
            return Err(ScenarioError::invalid(
                field,
                format!("unknown exporter `{name}`"),
            ));
        }
        Ok(())
    };
    exporter_known("focal_exporter", &s.focal_exporter)?;

    unique("suppliers", s.suppliers.iter().map(|o| o.name.as_str()))?;
    for o in &s.suppliers {
        let f = |x: &str| format!("suppliers.{}.{x}", o.name);
        exporter_known(&f("exporter"), &o.exporter)?;
        finite(|| f("cash"), o.cash)?;
        non_negative(|| f("credit_limit"), o.credit_limit)?;
        let mut seen = BTreeSet::new();
        for (i, l) in o.lines.iter().enumerate() {
            let g = |x: &str| format!("suppliers.{}.lines[{i}].{x}", o.name);
            category_known(&g("category"), &l.category)?;
            if !seen.insert((l.category.as_str(), l.tier)) {
                return Err(ScenarioError::invalid(
                    g("category"),
                    format!(
                        "a second {:?}-tier line of `{}`; a line is (owner, category, tier)",
                        l.tier, l.category
                    ),
                ));
            }
            non_negative(|| g("capacity"), l.capacity)?;
            unit(|| g("quality"), l.quality)?;
            positive(|| g("price_index"), l.price_index)?;
        }
    }

    // An element no other part of the scenario uses is most often a
    // misspelt name in a file that extends another: merged by name, the
    // typo became a new element and the intended change was lost.
    for e in &s.exporters {
        if !s.suppliers.iter().any(|o| o.exporter == e.name) {
            return Err(ScenarioError::invalid(
                format!("exporters.{}", e.name),
                format!(
                    "no supplier belongs to exporter `{}`, so it could sell nothing{}",
                    e.name,
                    nearest(&e.name, s.exporters.iter().map(|x| x.name.as_str()))
                ),
            ));
        }
    }
    for c in &s.categories {
        let made = s
            .suppliers
            .iter()
            .any(|o| o.lines.iter().any(|l| l.category == c.name));
        let bought = s.allies.iter().any(|a| a.mix.contains_key(&c.name))
            || s.exporters
                .iter()
                .any(|e| e.domestic_demand.contains_key(&c.name));
        if !made && !bought {
            return Err(ScenarioError::invalid(
                format!("categories.{}", c.name),
                format!(
                    "no line makes category `{}` and nobody buys it{}",
                    c.name,
                    nearest(&c.name, s.categories.iter().map(|x| x.name.as_str()))
                ),
            ));
        }
    }

    unique("allies", s.allies.iter().map(|a| a.name.as_str()))?;
    for a in &s.allies {
        let f = |x: &str| format!("allies.{}.{x}", a.name);
        if a.region.is_empty() {
            return Err(ScenarioError::invalid(f("region"), "missing region"));
        }
        non_negative(|| f("import_budget"), a.import_budget)?;
        let mut sum = 0.0;
        for (c, w) in &a.mix {
            category_known(&f("mix"), c)?;
            non_negative(|| f(&format!("mix.{c}")), *w)?;
            sum += w;
        }
        if (sum - 1.0).abs() > 1e-6 {
            return Err(ScenarioError::invalid(
                f("mix"),
                format!("shares sum to {sum}, not 1"),
            ));
        }
        // Requirements a month at threat 1: budget / (12 x mean programme size).
        let mean_size = mean_programme_size(s, a);
        if mean_size > 0.0 {
            let rate = a.import_budget / (12.0 * mean_size);
            if rate > MAX_REQUIREMENTS_PER_MONTH {
                // The programme sizes are as likely to be off as the budget
                // (a size set to 1e-9): the message names both, so that a
                // `--set` of either leads back to itself.
                let sizes: Vec<String> = a
                    .mix
                    .iter()
                    .filter(|(_, w)| **w > 0.0)
                    .map(|(c, _)| format!("`categories.{c}.program_size_mean`"))
                    .collect();
                return Err(ScenarioError::invalid(
                    f("import_budget"),
                    format!(
                        "{} TIV a year asks for {} requirements a month (programmes of {} TIV on average: {} weighted by `{}`), more than the limit of {MAX_REQUIREMENTS_PER_MONTH}: orders would grow without end (is a unit off?)",
                        given(a.import_budget),
                        short(rate),
                        short(mean_size),
                        sizes.join(", "),
                        f("mix")
                    ),
                ));
            }
        }
        for (x, v) in [
            ("beta_quality", a.beta_quality),
            ("beta_price", a.beta_price),
            ("beta_time", a.beta_time),
            ("beta_uncertainty", a.beta_uncertainty),
            ("beta_alignment", a.beta_alignment),
            ("outside_utility", a.outside_utility),
        ] {
            finite(|| f(x), v)?;
        }
        finite(|| f("patience"), a.patience)?;
        if a.patience <= 1.0 {
            return Err(ScenarioError::invalid(
                f("patience"),
                format!("{} must be > 1", a.patience),
            ));
        }
        unit(|| f("advance_share"), a.advance_share)?;
        unit(|| f("default_alignment"), a.default_alignment)?;
        for (e, v) in &a.alignment {
            exporter_known(&f("alignment"), e)?;
            unit(|| f(&format!("alignment.{e}")), *v)?;
        }
    }

    for (i, ev) in s.events.iter().enumerate() {
        let f = |x: &str| format!("events[{i}].{x}");
        if !s.allies.iter().any(|a| a.region == ev.region) {
            return Err(ScenarioError::invalid(
                f("region"),
                format!("no ally is in region `{}`", ev.region),
            ));
        }
        positive(|| f("factor"), ev.factor)?;
        if ev.to_month <= ev.from_month {
            return Err(ScenarioError::invalid(
                f("to_month"),
                "must be after from_month",
            ));
        }
    }

    threat_stays_bounded(s)?;

    let p = &s.policy;
    positive(
        || "policy.approval_time_factor".to_string(),
        p.approval_time_factor,
    )?;
    non_negative(
        || "policy.approval_cv_factor".to_string(),
        p.approval_cv_factor,
    )?;
    finite(|| "policy.factory_subsidy".to_string(), p.factory_subsidy)?;
    if !(0.0..1.0).contains(&p.factory_subsidy) {
        return Err(ScenarioError::invalid(
            "policy.factory_subsidy",
            format!("{} is outside [0, 1)", p.factory_subsidy),
        ));
    }
    unit(|| "policy.export_reserve".to_string(), p.export_reserve)?;
    positive(
        || "policy.priority_approval_factor".to_string(),
        p.priority_approval_factor,
    )?;
    let focal_owner = |field: &str, name: &str| -> Result {
        match s.suppliers.iter().find(|o| o.name == name) {
            None => Err(ScenarioError::invalid(
                field,
                format!("unknown supplier `{name}`"),
            )),
            Some(o) if o.exporter != s.focal_exporter => Err(ScenarioError::invalid(
                field,
                format!(
                    "`{name}` is not a supplier of the focal exporter `{}`",
                    s.focal_exporter
                ),
            )),
            Some(_) => Ok(()),
        }
    };
    for (i, nf) in p.new_factories.iter().enumerate() {
        let f = |x: &str| format!("policy.new_factories[{i}].{x}");
        focal_owner(&f("owner"), &nf.owner)?;
        category_known(&f("category"), &nf.category)?;
        non_negative(|| f("capacity"), nf.capacity)?;
        let has_line = s.suppliers.iter().any(|o| {
            o.name == nf.owner
                && o.lines
                    .iter()
                    .any(|l| l.category == nf.category && l.tier == nf.tier)
        }) || (nf.tier == Tier::Low
            && p.low_tier
                .iter()
                .any(|l| l.owner == nf.owner && l.category == nf.category));
        if !has_line {
            return Err(ScenarioError::invalid(
                f("category"),
                format!(
                    "`{}` has no {:?}-tier line of `{}` to add a factory to",
                    nf.owner, nf.tier, nf.category
                ),
            ));
        }
        if nf.online_month < p.start_month {
            return Err(ScenarioError::invalid(
                f("online_month"),
                "a lever cannot act before policy.start_month",
            ));
        }
    }
    for (i, lt) in p.low_tier.iter().enumerate() {
        let f = |x: &str| format!("policy.low_tier[{i}].{x}");
        focal_owner(&f("owner"), &lt.owner)?;
        category_known(&f("category"), &lt.category)?;
        unit(|| f("quality"), lt.quality)?;
        positive(|| f("price_index"), lt.price_index)?;
        non_negative(|| f("capacity"), lt.capacity)?;
        let exists = s.suppliers.iter().any(|o| {
            o.name == lt.owner
                && o.lines
                    .iter()
                    .any(|l| l.category == lt.category && l.tier == Tier::Low)
        });
        if exists {
            return Err(ScenarioError::invalid(
                f("owner"),
                format!(
                    "`{}` already has a low-tier `{}` line",
                    lt.owner, lt.category
                ),
            ));
        }
    }
    for (i, name) in p.priority_partners.iter().enumerate() {
        if !s.allies.iter().any(|a| &a.name == name) {
            return Err(ScenarioError::invalid(
                format!("policy.priority_partners[{i}]"),
                format!("unknown ally `{name}`"),
            ));
        }
    }
    plugins(s)
}

fn plugins(s: &Scenario) -> Result {
    use crate::scenario::{Agents, OwnerKind, PLUGIN_SLOTS};
    for (i, pl) in s.plugins.iter().enumerate() {
        let f = |x: &str| format!("plugins[{i}].{x}");
        if pl.path.trim().is_empty() {
            return Err(ScenarioError::invalid(f("path"), "is empty"));
        }
        if pl.slots.is_empty() {
            return Err(ScenarioError::invalid(
                f("slots"),
                format!("is empty (slots: {})", PLUGIN_SLOTS.join(", ")),
            ));
        }
        for (k, slot) in pl.slots.iter().enumerate() {
            if !PLUGIN_SLOTS.contains(&slot.as_str()) {
                return Err(ScenarioError::invalid(
                    f("slots"),
                    format!(
                        "unknown slot `{slot}` (slots: {}){}",
                        PLUGIN_SLOTS.join(", "),
                        nearest(slot, PLUGIN_SLOTS.iter().copied())
                    ),
                ));
            }
            if pl.slots[..k].contains(slot) {
                return Err(ScenarioError::invalid(
                    f("slots"),
                    format!("`{slot}` is listed twice"),
                ));
            }
        }
        let procurement = pl.slots.iter().any(|x| x == "procurement");
        let fits_investment = |kind: OwnerKind| {
            pl.slots.iter().any(|x| {
                (x == "contractor_investment" && kind == OwnerKind::Contractor)
                    || (x == "competitor_investment" && kind == OwnerKind::Competitor)
            })
        };
        match &pl.agents {
            Agents::Keyword(k) if k == "all" => {}
            Agents::Keyword(k) => {
                return Err(ScenarioError::invalid(
                    f("agents"),
                    format!("`{k}`: expected \"all\", a list of names, or {{ region = \"...\" }}"),
                ))
            }
            Agents::Names(names) => {
                for n in names {
                    let ally = s.allies.iter().any(|a| &a.name == n);
                    let supplier = s.suppliers.iter().find(|o| &o.name == n);
                    let fits =
                        (procurement && ally) || supplier.is_some_and(|o| fits_investment(o.kind));
                    if !fits {
                        return Err(ScenarioError::invalid(
                            f("agents"),
                            format!(
                                "`{n}` is not an agent of the slots {:?} (an ally for procurement, a contractor or competitor supplier for investment){}",
                                pl.slots,
                                // Only names that would fit these slots.
                                nearest(
                                    n,
                                    s.allies
                                        .iter()
                                        .filter(|_| procurement)
                                        .map(|a| a.name.as_str())
                                        .chain(
                                            s.suppliers
                                                .iter()
                                                .filter(|o| fits_investment(o.kind))
                                                .map(|o| o.name.as_str())
                                        )
                                )
                            ),
                        ));
                    }
                }
            }
            Agents::Region { region } => {
                if !procurement {
                    return Err(ScenarioError::invalid(
                        f("agents"),
                        "a region selects allies, so it needs the `procurement` slot",
                    ));
                }
                if !s.allies.iter().any(|a| &a.region == region) {
                    return Err(ScenarioError::invalid(
                        f("agents"),
                        format!("no ally is in region `{region}`"),
                    ));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Scenario {
        let text = include_str!("../../tests/fixtures/scenarios/tiny.toml");
        crate::compose::from_str("tiny.toml", text).expect("the fixture is valid")
    }

    /// The shock sd at which Gondor (the fixture's busier ally, 200 TIV a
    /// year of 38-TIV programmes) would reach the limit at 6 sd of its log
    /// threat after the fixture's 84 months, summing the AR(1)'s variance
    /// term by term.
    fn limit_sd(r: f64) -> f64 {
        let rate = 200.0 / (12.0 * (0.6 * 50.0 + 0.4 * 20.0));
        let variance: f64 = (0..83).map(|k| r.powi(2 * k)).sum();
        (MAX_REQUIREMENTS_PER_MONTH / rate).ln() / (THREAT_SDS * variance.sqrt())
    }

    #[test]
    fn the_threat_limit_falls_where_six_sd_reach_the_request_limit() {
        for r in [0.98, 0.5, 1.0] {
            let sd = limit_sd(r);
            let mut s = tiny();
            s.model.threat_persistence = r;
            s.model.threat_sd = 0.99 * sd;
            assert!(validate(&s).is_ok(), "r {r}: sd {} refused", 0.99 * sd);
            s.model.threat_sd = 1.01 * sd;
            let err = validate(&s).expect_err("past the limit").to_string();
            let blamed = if r < 1.0 {
                "field `model.threat_sd`"
            } else {
                "field `model.threat_persistence`"
            };
            assert!(
                err.contains(blamed) && err.contains("allies.Gondor"),
                "{err}"
            );
        }
    }

    #[test]
    fn more_regions_than_a_shipment_can_name_are_refused() {
        let mut s = tiny();
        let ally = s.allies[0].clone();
        s.allies = (0..MAX_REGIONS)
            .map(|k| crate::scenario::Ally {
                name: format!("A{k}"),
                region: format!("R{k}"),
                ..ally.clone()
            })
            .collect();
        assert_eq!(s.regions().len(), MAX_REGIONS);
        assert!(validate(&s).is_ok(), "{:?}", validate(&s).err());
        s.allies.push(crate::scenario::Ally {
            name: "One more".into(),
            region: "One more".into(),
            ..ally
        });
        let err = validate(&s).expect_err("a region too many").to_string();
        assert!(err.contains("65536 regions"), "{err}");
    }

    #[test]
    fn near_names_are_suggested_and_far_ones_not() {
        let names = ["France", "Germany", "United States"];
        assert_eq!(strsim::osa_distance("Frnace", "France"), 1);
        assert_eq!(strsim::osa_distance("kitten", "sitting"), 3);
        assert_eq!(strsim::osa_distance("", "abc"), 3);
        assert!(nearest("Frnace", names.into_iter()).contains("`France`"));
        assert!(nearest("united states", names.into_iter()).contains("`United States`"));
        assert!(nearest("Germny", names.into_iter()).contains("`Germany`"));
        assert_eq!(nearest("Brazil", names.into_iter()), "");
        assert_eq!(nearest("France", ["France"].into_iter()), "");
    }

    #[test]
    fn an_exporter_with_no_supplier_and_a_category_nobody_uses_are_refused() {
        let mut s = tiny();
        let mut ghost = s.exporters[0].clone();
        ghost.name = "Alphq".into();
        s.exporters.push(ghost);
        let err = validate(&s).expect_err("no supplier").to_string();
        assert!(
            err.contains("exporters.Alphq") && err.contains("`Alpha`"),
            "{err}"
        );
        let mut s = tiny();
        let mut unused = s.categories[0].clone();
        unused.name = "boats".into();
        s.categories.push(unused);
        let err = validate(&s).expect_err("unused category").to_string();
        assert!(
            err.contains("categories.boats") && !err.contains("misspelling"),
            "{err}"
        );
        // Bought but made by nobody is a scenario, not a typo.
        let ally = &mut s.allies[0];
        ally.mix.insert("boats".into(), 0.0);
        assert!(validate(&s).is_ok());
    }

    #[test]
    fn events_count_toward_the_threat_limit_only_where_they_raise_it() {
        let mut s = tiny();
        s.model.threat_sd = 0.0;
        let rate = 200.0 / (12.0 * 38.0);
        let event = |factor: f64| crate::scenario::Event {
            region: "West".into(),
            factor,
            from_month: 0,
            to_month: 12,
        };
        // Two overlapping events multiply; one that lowers the threat
        // does not offset them.
        let each = (MAX_REQUIREMENTS_PER_MONTH / rate).sqrt();
        s.events = vec![event(0.99 * each), event(0.99 * each), event(1e-3)];
        assert!(validate(&s).is_ok());
        s.events = vec![event(1.01 * each), event(1.01 * each), event(1e-3)];
        let err = validate(&s).expect_err("past the limit").to_string();
        assert!(err.contains("`events`") && err.contains("`West`"), "{err}");
    }
}
